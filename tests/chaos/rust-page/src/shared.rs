//! A tab of the Rust API's shared-connection tests (tests/js/shared-rust.test.mjs) and benchmark
//! (bench/shared.mjs): one socket made with `Options::shared` (or not), what it receives, and the
//! calls made from each page.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use rtio::{ManagerEvent, ManagerSubscription, Options, Room, Socket, Subscription, Transport};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

fn js_error(e: impl std::fmt::Display) -> JsValue {
    JsError::new(&e.to_string()).into()
}

/// One tab's socket.
#[wasm_bindgen]
pub struct SharedTab {
    socket: Socket,
    /// The `news` events received.
    got: Rc<RefCell<Vec<Value>>>,
    /// The last `ManagerEvent::Tabs`.
    told: Rc<Cell<u32>>,
    connects: Rc<Cell<u32>>,
    rooms: RefCell<Vec<Room>>,
    others: RefCell<Vec<Socket>>,
    later: RefCell<Vec<Subscription>>,
    _subs: Vec<Subscription>,
    _manager: ManagerSubscription,
}

#[wasm_bindgen]
impl SharedTab {
    /// A socket to `url` over WebSocket, shared among the tabs if `shared`.
    #[wasm_bindgen(constructor)]
    pub fn new(url: &str, shared: bool) -> Result<SharedTab, JsValue> {
        let opts = Options::default()
            .shared(shared)
            .transports(&[Transport::WebSocket])
            .reconnection_delay(Duration::from_millis(100))
            .reconnection_delay_max(Duration::from_millis(300));
        let socket = Socket::connect(url, opts).map_err(js_error)?;
        let got = Rc::new(RefCell::new(Vec::new()));
        let connects = Rc::new(Cell::new(0));
        let mut subs = Vec::new();
        let g = Rc::clone(&got);
        subs.push(socket.on("news", move |v: Value| g.borrow_mut().push(v)));
        subs.push(socket.on_with_ack("question", |_: Value, ack| {
            if let Some(ack) = ack {
                let _ = ack.send(&"answer");
            }
        }));
        let c = Rc::clone(&connects);
        subs.push(socket.on_connect(move || c.set(c.get() + 1)));
        // The tabs' count is read with `tabs()`; this listener checks the event is raised.
        let told = Rc::new(Cell::new(0));
        let t = Rc::clone(&told);
        let manager = socket.manager().on_event(move |e| {
            if let ManagerEvent::Tabs(n) = e {
                t.set(*n);
            }
        });
        Ok(SharedTab {
            socket,
            got,
            told,
            connects,
            rooms: RefCell::new(Vec::new()),
            others: RefCell::new(Vec::new()),
            later: RefCell::new(Vec::new()),
            _subs: subs,
            _manager: manager,
        })
    }

    pub fn id(&self) -> Option<String> {
        self.socket.id()
    }

    pub fn connected(&self) -> bool {
        self.socket.connected()
    }

    /// How many times the socket connected.
    pub fn connects(&self) -> u32 {
        self.connects.get()
    }

    /// How many tabs share the connection, as the manager was told (`undefined` unshared).
    pub fn tabs(&self) -> Option<u32> {
        self.socket.manager().tabs()
    }

    /// The count of the last `ManagerEvent::Tabs` (0 before any).
    pub fn told(&self) -> u32 {
        self.told.get()
    }

    /// The `news` events received, as JSON text.
    pub fn got(&self) -> String {
        Value::Array(self.got.borrow().clone()).to_string()
    }

    /// Emits `event` with the arguments of the JSON array `args`.
    pub fn emit(&self, event: &str, args: &str) -> Result<(), JsValue> {
        let args: Vec<Value> = serde_json::from_str(args).map_err(js_error)?;
        self.socket.emit_args(event, &args).map_err(js_error)
    }

    /// `echo` with `v`, acknowledged within `ms`: resolves with the reply, rejects with the
    /// error's text.
    pub fn echo(&self, v: String, ms: u32) -> js_sys::Promise {
        self.ack("echo", v, ms)
    }

    /// `event` with `v`, acknowledged within `ms`.
    pub fn ack(&self, event: &str, v: String, ms: u32) -> js_sys::Promise {
        let ack = self
            .socket
            .emit_with_ack::<Value, _>(event, &v)
            .timeout(Duration::from_millis(ms.into()));
        future_to_promise(async move {
            ack.await
                .map(|v| JsValue::from_str(&v.to_string()))
                .map_err(js_error)
        })
    }

    /// Joins `room` with the meta of the JSON text `meta`; resolves with the members as JSON.
    pub fn join(&self, room: &str, meta: &str) -> Result<js_sys::Promise, JsValue> {
        let meta: Value = serde_json::from_str(meta).map_err(js_error)?;
        let r = self.socket.room(room).map_err(js_error)?;
        let join = r.join(&meta);
        self.rooms.borrow_mut().push(r);
        Ok(future_to_promise(async move {
            let members = join.await.map_err(js_error)?;
            let list: Vec<Value> = members
                .into_iter()
                .map(|m| json!({ "id": m.id, "meta": m.meta }))
                .collect();
            Ok(JsValue::from_str(&Value::Array(list).to_string()))
        }))
    }

    /// Leaves `room`.
    pub fn leave(&self, room: &str) -> js_sys::Promise {
        let r = {
            let mut rooms = self.rooms.borrow_mut();
            let at = rooms.iter().position(|r| r.name() == room);
            at.map(|i| rooms.remove(i))
        };
        future_to_promise(async move {
            match r {
                Some(r) => r.leave().await.map(|_| JsValue::TRUE).map_err(js_error),
                None => Ok(JsValue::FALSE),
            }
        })
    }

    /// The members of `room`, as JSON text.
    pub fn members(&self, room: &str) -> String {
        let rooms = self.rooms.borrow();
        let list: Vec<Value> = rooms
            .iter()
            .filter(|r| r.name() == room)
            .flat_map(|r| r.members())
            .map(|m| json!({ "id": m.id, "meta": m.meta }))
            .collect();
        Value::Array(list).to_string()
    }

    /// Connects namespace `nsp` on the same manager, kept by this tab.
    pub fn namespace(&self, nsp: &str) -> js_sys::Promise {
        let s = self.socket.namespace(nsp);
        self.others.borrow_mut().push(s.clone());
        future_to_promise(async move {
            s.wait_connected()
                .await
                .map(|_| JsValue::TRUE)
                .map_err(js_error)
        })
    }

    pub fn disconnect(&self) {
        self.socket.disconnect();
    }

    pub fn open(&self) {
        self.socket.open();
    }

    /// Calls `f` when the `n`th `event` arrives from now (for bench/shared.mjs).
    pub fn when(&self, event: &str, n: u32, f: js_sys::Function) {
        let got = Rc::new(Cell::new(0u32));
        let sub = self.socket.on(event, move |_: Value| {
            got.set(got.get() + 1);
            if got.get() == n {
                let _ = f.call0(&JsValue::NULL);
            }
        });
        self.later.borrow_mut().push(sub);
    }
}

//! The chaos workload (`tests/chaos/README.md`) on rtio's Rust API: what `workload.js` does
//! with `io()`, done here with [`rtio::Socket`], [`rtio::Room`] and ack futures, so that the
//! rust lane puts the Rust front door through the same faults and the same checks. Built with
//! wasm-bindgen for the lane's page; `workload.js` drives it and keeps its records.
//!
//! The same build serves the shared-connection tests of the Rust API ([`shared`]).

pub mod shared;

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::time::Duration;

use gloo_timers::callback::Interval;
use gloo_timers::future::TimeoutFuture;
use rtio::{ManagerEvent, ManagerSubscription, Options, Room, Socket, Subscription};
use serde::Deserialize;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local};

/// One client of the lane, as `lanes.mjs` describes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    name: String,
    url: String,
    ack_timeout: u64,
    emit_every: u32,
    volatile_every: u32,
    feed: u64,
    room: Option<String>,
}

struct Inner {
    spec: Spec,
    socket: Socket,
    room: Option<Room>,
    /// `workload.js`'s record keeper: takes one record as JSON text.
    note: js_sys::Function,
    emits: Cell<u64>,
    volatiles: Cell<u64>,
    pending: Cell<u32>,
    timers: RefCell<Vec<Interval>>,
    subscriptions: RefCell<Vec<Subscription>>,
    manager: RefCell<Option<ManagerSubscription>>,
}

impl Inner {
    fn note(&self, record: Value) {
        let _ = self
            .note
            .call1(&JsValue::NULL, &JsValue::from_str(&record.to_string()));
    }

    fn emit_next(self: &Rc<Self>) {
        let n = self.emits.get() + 1;
        self.emits.set(n);
        self.pending.set(self.pending.get() + 1);
        let ack = self
            .socket
            .emit_with_ack::<Value, _>("chaos:emit", &n)
            .timeout(Duration::from_millis(self.spec.ack_timeout));
        let me = Rc::clone(self);
        spawn_local(async move {
            let c = &me.spec.name;
            match ack.await {
                Ok(v) if v == json!(n) => me.note(json!(["ok", c, n])),
                Ok(v) => me.note(json!(["bad", c, n, v.to_string()])),
                Err(e) => me.note(json!(["rejected", c, n, e.to_string()])),
            }
            me.pending.set(me.pending.get() - 1);
        });
    }
}

/// A client of the chaos workload on the Rust API.
#[wasm_bindgen]
pub struct Client {
    inner: Rc<Inner>,
}

/// Starts a client from its spec (JSON text); `note` gets its records as JSON text.
#[wasm_bindgen]
pub fn start(spec: &str, note: js_sys::Function) -> Result<Client, JsError> {
    let spec: Spec = serde_json::from_str(spec).map_err(|e| JsError::new(&e.to_string()))?;
    let opts = Options::default()
        .auth(&json!({ "chaos": spec.name }))
        .reconnection_delay(Duration::from_millis(200))
        .reconnection_delay_max(Duration::from_millis(2000))
        .connect_timeout(Duration::from_millis(3000));
    let socket = Socket::connect(&spec.url, opts).map_err(|e| JsError::new(&e.to_string()))?;
    let room = match &spec.room {
        Some(name) => Some(
            socket
                .room(name)
                .map_err(|e| JsError::new(&e.to_string()))?,
        ),
        None => None,
    };
    let inner = Rc::new(Inner {
        spec,
        socket,
        room,
        note,
        emits: Cell::new(0),
        volatiles: Cell::new(0),
        pending: Cell::new(0),
        timers: RefCell::default(),
        subscriptions: RefCell::default(),
        manager: RefCell::default(),
    });
    listen(&inner);
    if let Some(room) = &inner.room {
        let join = room.join(&json!({ "name": inner.spec.name }));
        let me = Rc::downgrade(&inner);
        spawn_local(async move {
            if let (Err(e), Some(me)) = (join.await, me.upgrade()) {
                me.note(json!(["join_error", me.spec.name, e.to_string()]));
            }
        });
    }
    let me = Rc::downgrade(&inner);
    let emit = Interval::new(inner.spec.emit_every, move || {
        if let Some(me) = me.upgrade() {
            me.emit_next();
        }
    });
    let me = Rc::downgrade(&inner);
    let volatile = Interval::new(inner.spec.volatile_every, move || {
        if let Some(me) = me.upgrade() {
            let n = me.volatiles.get() + 1;
            me.volatiles.set(n);
            let _ = me.socket.emit_volatile("chaos:volatile", &n);
        }
    });
    inner.timers.borrow_mut().extend([emit, volatile]);
    Ok(Client { inner })
}

/// The listeners that record what happens: connects (which start the feed), disconnects,
/// failed attempts, reconnection attempts and ticks.
fn listen(inner: &Rc<Inner>) {
    let socket = &inner.socket;
    let mut subs = inner.subscriptions.borrow_mut();
    let me = Rc::downgrade(inner);
    subs.push(socket.on_connect(move || {
        let Some(me) = me.upgrade() else { return };
        let s = &me.socket;
        me.note(json!(["connect", me.spec.name, s.id(), s.recovered()]));
        let _ = s.emit("chaos:feed", &me.spec.feed);
    }));
    let me = Rc::downgrade(inner);
    subs.push(socket.on_disconnect(move |reason| {
        if let Some(me) = me.upgrade() {
            me.note(json!(["disconnect", me.spec.name, reason.as_str()]));
        }
    }));
    let me = Rc::downgrade(inner);
    subs.push(socket.on_connect_error(move |e| {
        if let Some(me) = me.upgrade() {
            me.note(json!(["connect_error", me.spec.name, e.to_string()]));
        }
    }));
    let me = Rc::downgrade(inner);
    subs.push(socket.on::<(String, u64), _>("chaos:tick", move |(s, k)| {
        if let Some(me) = me.upgrade() {
            me.note(json!(["tick", me.spec.name, s, k]));
        }
    }));
    let me: Weak<Inner> = Rc::downgrade(inner);
    *inner.manager.borrow_mut() = Some(socket.manager().on_event(move |event| {
        if let (ManagerEvent::ReconnectAttempt(_), Some(me)) = (event, me.upgrade()) {
            me.note(json!(["attempt", me.spec.name]));
        }
    }));
}

#[wasm_bindgen]
impl Client {
    /// Connected, and in its room if it has one.
    pub fn ready(&self) -> bool {
        let me = &self.inner;
        me.socket.connected() && me.room.as_ref().is_none_or(Room::joined)
    }

    /// Stops the work, waits (at most `ms`) for the pending acks, stops the feed on the live
    /// connection (its ack follows every tick sent before), and resolves with the client's
    /// final state as JSON text.
    pub fn finish(&self, ms: u32) -> js_sys::Promise {
        let me = Rc::clone(&self.inner);
        future_to_promise(async move {
            me.timers.borrow_mut().clear();
            let timeout = Duration::from_millis(ms.into());
            let deadline = js_sys::Date::now() + f64::from(ms);
            while me.pending.get() > 0 {
                if js_sys::Date::now() > deadline {
                    return Err(JsError::new("timed out waiting for the pending acks").into());
                }
                TimeoutFuture::new(20).await;
            }
            let fail = |what: &str, e: rtio::AckError| {
                JsValue::from(JsError::new(&format!("{what}: {e}")))
            };
            me.socket
                .emit_with_ack::<bool, _>("chaos:feed", &0)
                .timeout(timeout)
                .await
                .map_err(|e| fail("stopping the feed", e))?;
            let mut state = json!({
                "name": me.spec.name,
                "emits": me.emits.get(),
                "volatiles": me.volatiles.get(),
                "connected": me.socket.connected(),
                "id": me.socket.id(),
            });
            if let Some(room) = &me.room {
                let mut members: Vec<String> = room.members().into_iter().map(|m| m.id).collect();
                members.sort();
                let mut server: Vec<String> = me
                    .socket
                    .emit_with_ack("chaos:members", room.name())
                    .timeout(timeout)
                    .await
                    .map_err(|e| fail("asking for the members", e))?;
                server.sort();
                state["members"] = json!(members);
                state["serverMembers"] = json!(server);
                state["self"] = json!(me.socket.id());
            }
            Ok(JsValue::from_str(&state.to_string()))
        })
    }

    /// Stops everything and disconnects.
    pub fn close(&self) {
        let me = &self.inner;
        me.timers.borrow_mut().clear();
        me.subscriptions.borrow_mut().clear();
        me.manager.borrow_mut().take();
        me.socket.disconnect();
    }
}

//! One connection for every tab, in the Rust API: [`Options::shared`](super::Options::shared).
//!
//! The tabs of an origin whose managers ask for the same server URL (and sharing name) share
//! one Engine.IO connection. It lives in one tab, the *host*, elected through the Web Locks API
//! (the lock [`HOST_LOCK`]; when the host closes, the lock goes to the next tab that asked);
//! the others reach it over the `BroadcastChannel` [`CHANNEL`]. The host runs the connection's
//! [`Link`] and serves every tab's manager (its own included) through a [`Remote`], which stands
//! in for the manager's own `Link`: the same calls, carried as messages, and the same session
//! events back. What the host adds is the sharing, as in the npm package's `shared.js`:
//!
//! - a namespace is connected while any tab uses it, and a tab that asks for a connected one is
//!   told at once; the auth is that of the tab that connected it first;
//! - an event from the server reaches every tab of its namespace; an ack it asks for is answered
//!   once (the first tab's answer);
//! - an emit's ack comes back to the tab that emitted, with its own timeout;
//! - a room (the `rtio:` convention) is held while any tab holds it: a tab's `rtio:leave` goes
//!   to the server only when no other tab holds the room; a `tabs` key in the meta a tab joins
//!   with is kept at the number of tabs holding the room;
//! - the connection closes when its last tab leaves. Each tab holds a lock of its own
//!   ([`TAB_LOCK`]), which the host waits for: a tab that closes leaves by itself.
//!
//! When the host closes, another tab is elected and opens the connection again: every tab sees
//! its namespaces disconnect ("transport close") and connect again, keeping its listeners;
//! acks that were pending fail.
//!
//! No `SharedWorker` here: a worker would have to load the application's own wasm, whose start
//! function builds its user interface, and a library crate has no way to ship a worker entry
//! through the Rust front ends' bundlers (trunk, cargo-leptos). The names below are not the npm
//! package's: the Rust and JavaScript hosts do not speak the same messages.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::{Rc, Weak};

use js_sys::{Array, Object, Promise, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{BroadcastChannel, MessageEvent};

use crate::session::{AckFailure, DisconnectReason, EventKind, Millis};
use crate::shell::link::{self, Bins};
use crate::shell::websocket::Text;

type Link = link::Link<Text>;
type Event = link::Event<String>;

/// The channel between the tabs' managers and the host.
const CHANNEL: &str = "rtio-rust-shared-1";
/// The lock of the host: the tab holding it hosts every shared connection of the origin.
const HOST_LOCK: &str = "rtio-rust-shared-host-1";
/// The prefix of each tab's own lock, held while the tab lives.
const TAB_LOCK: &str = "rtio-rust-tab-1:";
/// How many messages this page's managers may have waiting for a host (while none is known):
/// beyond, an emit fails as with a full buffer.
const WAITING: usize = 10_000;
/// How many of the server's acks a connection keeps while no tab answers them (the oldest go
/// first): an event nobody acknowledges is not remembered forever.
const ASKS: usize = 1000;

#[wasm_bindgen]
extern "C" {
    /// The Web Locks API (`navigator.locks`), which web-sys offers only among its unstable
    /// APIs.
    type LockManager;
    #[wasm_bindgen(method)]
    fn request(this: &LockManager, name: &str, callback: &JsValue) -> Promise;
}

/// `navigator.locks`, where there is one and it can be used: a secure context, of an origin
/// that is not opaque (a sandboxed frame's requests would be refused).
fn locks() -> Option<LockManager> {
    let global = js_sys::global();
    if Reflect::get(&global, &"origin".into()).ok()?.as_string()? == "null" {
        return None;
    }
    let navigator = Reflect::get(&global, &"navigator".into()).ok()?;
    let locks = Reflect::get(&navigator, &"locks".into()).ok()?;
    (locks.is_object()).then(|| locks.unchecked_into())
}

/// Asks for lock `name`; `then` runs once it is held, and the lock is kept forever if `keep`
/// (else released when `then` returns).
fn lock(locks: &LockManager, name: &str, keep: bool, then: impl FnOnce() + 'static) {
    let callback = Closure::once_into_js(move |_: JsValue| -> JsValue {
        then();
        if keep {
            Promise::new(&mut |_, _| {}).into()
        } else {
            JsValue::UNDEFINED
        }
    });
    // A refused request (the page unloading, say) leaves nothing to do; caught, so that the
    // console does not report it.
    thread_local! {
        static IGNORE: Closure<dyn FnMut(JsValue)> = Closure::new(|_| {});
    }
    IGNORE.with(|ignore| {
        let _ = locks.request(name, &callback).catch(ignore);
    });
}

// ---------------------------------------------------------------------------------------------
// Messages: JS objects, for the channel's structured clone (attachments go as they are).

fn message(fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

fn field(m: &JsValue, k: &str) -> JsValue {
    Reflect::get(m, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
}

fn text(m: &JsValue, k: &str) -> String {
    field(m, k).as_string().unwrap_or_default()
}

fn text_or_none(m: &JsValue, k: &str) -> Option<String> {
    field(m, k).as_string()
}

fn number(m: &JsValue, k: &str) -> Option<f64> {
    field(m, k).as_f64()
}

fn bins(m: &JsValue) -> Bins {
    field(m, "bins").dyn_into::<Array>().ok()
}

fn str_value(s: Option<&str>) -> JsValue {
    s.map_or(JsValue::NULL, JsValue::from_str)
}

const KINDS: [EventKind; 14] = [
    EventKind::Connect,
    EventKind::Disconnect,
    EventKind::Event,
    EventKind::Ack,
    EventKind::ConnectError,
    EventKind::AckFailed,
    EventKind::EngineOpen,
    EventKind::EngineClose,
    EventKind::ReconnectAttempt,
    EventKind::Reconnect,
    EventKind::ReconnectError,
    EventKind::ReconnectFailed,
    EventKind::AuthRequest,
    EventKind::Upgrade,
];

const REASONS: [DisconnectReason; 8] = [
    DisconnectReason::IoServerDisconnect,
    DisconnectReason::IoClientDisconnect,
    DisconnectReason::PingTimeout,
    DisconnectReason::TransportClose,
    DisconnectReason::TransportError,
    DisconnectReason::ParseError,
    DisconnectReason::Timeout,
    DisconnectReason::ForcedClose,
];

/// A session event as a message (`id` in place of its own, for an ack routed to a tab). Only
/// the fields the event has are set: each is a call out of the wasm, paid for every tab.
fn event_message(ev: &Event, id: Option<u64>, transport: &str) -> JsValue {
    let mut fields: Vec<(&str, JsValue)> = vec![
        ("t", "ev".into()),
        ("kind", (ev.kind as u32).into()),
        ("nsp", ev.nsp.as_str().into()),
    ];
    if !ev.text.is_empty() {
        fields.push(("text", ev.text.as_str().into()));
    }
    if let Some(data) = &ev.data {
        fields.push(("data", data.as_str().into()));
    }
    if let Some(id) = id.or(ev.id) {
        fields.push(("id", (id as f64).into()));
    }
    if let Some(bins) = &ev.attachments {
        fields.push(("bins", bins.into()));
    }
    if let Some(reason) = ev.reason {
        fields.push(("reason", reason.as_str().into()));
    }
    if matches!(ev.failure, Some(AckFailure::Timeout)) {
        fields.push(("timeout", true.into()));
    }
    if ev.recovered {
        fields.push(("recovered", true.into()));
    }
    if ev.offset {
        fields.push(("offset", true.into()));
    }
    if ev.nsp.is_empty() {
        fields.push(("transport", transport.into()));
    }
    message(&fields)
}

/// The session event of an `ev` message.
fn event_of(m: &JsValue) -> Option<Event> {
    let kind = *KINDS.get(number(m, "kind")? as usize)?;
    let mut ev = Event::new(kind, Rc::new(text(m, "nsp")), text(m, "text"));
    ev.data = text_or_none(m, "data");
    ev.id = number(m, "id").map(|n| n as u64);
    ev.attachments = bins(m);
    ev.reason =
        text_or_none(m, "reason").and_then(|r| REASONS.into_iter().find(|x| x.as_str() == r));
    if kind == EventKind::AckFailed {
        ev.failure = Some(if field(m, "timeout").is_truthy() {
            AckFailure::Timeout
        } else {
            AckFailure::Disconnected
        });
    }
    ev.recovered = field(m, "recovered").is_truthy();
    ev.offset = field(m, "offset").is_truthy();
    Some(ev)
}

/// An event made here (not by a session) for a tab.
fn made(kind: EventKind, nsp: &str, reason: Option<DisconnectReason>, id: Option<u64>) -> Event {
    let mut ev = Event::new(
        kind,
        Rc::new(nsp.into()),
        reason.map_or(String::new(), |r| r.as_str().into()),
    );
    ev.reason = reason;
    ev.id = id;
    if kind == EventKind::AckFailed {
        ev.failure = Some(AckFailure::Disconnected);
    }
    ev
}

/// An ack's timeout as a message carries it: none (`undefined`), no timeout (-1), or ms.
fn ack_value(ack: Option<Option<Millis>>) -> JsValue {
    match ack {
        None => JsValue::UNDEFINED,
        Some(None) => (-1.0).into(),
        Some(Some(ms)) => (ms as f64).into(),
    }
}

fn ack_of(m: &JsValue, k: &str) -> Option<Option<Millis>> {
    number(m, k).map(|n| (n >= 0.0).then_some(n as Millis))
}

// ---------------------------------------------------------------------------------------------
// A manager's connection

/// A manager's connection: its own, or the tabs' shared one.
pub(crate) enum Conn {
    Own(Link),
    Shared(Remote),
}

macro_rules! either {
    ($self:ident, $c:ident => $e:expr) => {
        match $self {
            Conn::Own($c) => $e,
            Conn::Shared($c) => $e,
        }
    };
}

impl Conn {
    pub fn connect(&self, nsp: &str, auth: Option<String>) {
        either!(self, c => c.connect(nsp, auth))
    }

    pub fn connect_asking_auth(&self, nsp: &str) {
        either!(self, c => c.connect_asking_auth(nsp))
    }

    pub fn provide_auth(&self, nsp: &str, auth: Option<String>) {
        either!(self, c => c.provide_auth(nsp, auth))
    }

    pub fn disconnect(&self, nsp: &str) {
        either!(self, c => c.disconnect(nsp))
    }

    pub fn emit(
        &self,
        nsp: &str,
        data: String,
        attachments: Bins,
        ack: Option<Option<Millis>>,
    ) -> Result<Option<u64>, crate::session::EmitError> {
        either!(self, c => c.emit(nsp, data, attachments, ack))
    }

    pub fn emit_volatile(&self, nsp: &str, data: String, attachments: Bins) -> bool {
        either!(self, c => c.emit_volatile(nsp, data, attachments))
    }

    pub fn ack(&self, nsp: &str, id: u64, data: String, attachments: Bins) {
        either!(self, c => c.ack(nsp, id, data, attachments))
    }

    pub fn set_ack_timeout(&self, id: u64, timeout: Option<Millis>) {
        either!(self, c => c.set_ack_timeout(id, timeout))
    }

    pub fn cancel_ack(&self, nsp: &str, id: u64) {
        either!(self, c => c.cancel_ack(nsp, id))
    }

    pub fn close(&self) {
        either!(self, c => c.close())
    }

    pub fn transport_name(&self) -> &'static str {
        either!(self, c => c.transport_name())
    }
}

// ---------------------------------------------------------------------------------------------
// The election: one per page.

/// Makes the host's connections: the config text of a hello (see
/// [`socket::shared_config`](super::socket)) and the sink of its events, to a `Link`.
pub(super) type LinkMaker = fn(&str, Box<dyn Fn(Event)>) -> Option<Link>;

struct Election {
    tab: String,
    channel: BroadcastChannel,
    locks: LockManager,
    make: LinkMaker,
    state: RefCell<ElectionState>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

#[derive(Default)]
struct ElectionState {
    /// This page's clients (managers), by id.
    clients: HashMap<String, Weak<RemoteInner>>,
    /// What this page's clients sent before the host was known, or before this tab held its
    /// own lock, oldest first.
    queue: Vec<(String, JsValue)>,
    host: Option<String>,
    /// This tab holds its own lock (the host, which waits for it, must not get it first).
    held: bool,
    /// Set when this tab hosts.
    hosting: Option<Rc<Host>>,
    next: u32,
}

thread_local! {
    static ELECTION: RefCell<Option<Rc<Election>>> = const { RefCell::new(None) };
}

impl Election {
    /// This page's election, started on first use; `None` where the browser cannot share
    /// (no Web Locks API, which needs a secure context, or no `BroadcastChannel`).
    fn get(make: LinkMaker) -> Option<Rc<Election>> {
        if !crate::shell::BROWSER {
            return None;
        }
        if let Some(e) = ELECTION.with(|e| e.borrow().clone()) {
            return Some(e);
        }
        let locks = locks()?;
        let channel = BroadcastChannel::new(CHANNEL).ok()?;
        let tab = format!(
            "{:x}{:x}",
            crate::shell::clock::seed() & 0xffff_ffff_ffff,
            js_sys::Date::now() as u64
        );
        let election = Rc::new_cyclic(|weak: &Weak<Election>| {
            let weak = weak.clone();
            let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                if let Some(election) = weak.upgrade() {
                    election.on_channel(e.data());
                }
            });
            channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            Election {
                tab,
                channel,
                locks,
                make,
                state: RefCell::new(ElectionState::default()),
                _on_message: on_message,
            }
        });
        ELECTION.with(|e| *e.borrow_mut() = Some(Rc::clone(&election)));
        let weak = Rc::downgrade(&election);
        lock(
            &election.locks,
            &format!("{TAB_LOCK}{}", election.tab),
            true,
            move || {
                if let Some(e) = weak.upgrade() {
                    e.state.borrow_mut().held = true;
                    e.flush();
                }
            },
        );
        let weak = Rc::downgrade(&election);
        lock(&election.locks, HOST_LOCK, true, move || {
            if let Some(e) = weak.upgrade() {
                let host = Host::new(Rc::downgrade(&e));
                e.state.borrow_mut().hosting = Some(host);
                e.broadcast(&message(&[
                    ("k", "host".into()),
                    ("id", e.tab.as_str().into()),
                ]));
                e.host_is(e.tab.clone());
            }
        });
        election.broadcast(&message(&[("k", "who".into())]));
        Some(election)
    }

    fn broadcast(&self, m: &JsValue) {
        // A message that cannot be cloned is dropped, as a lost one would be.
        let _ = self.channel.post_message(m);
    }

    /// Whether the messages waiting for a host fill the queue.
    fn full(&self) -> bool {
        self.state.borrow().queue.len() >= WAITING
    }

    fn client(&self, remote: &Rc<RemoteInner>) -> String {
        let mut st = self.state.borrow_mut();
        st.next += 1;
        let id = format!("{}.{}", self.tab, st.next);
        st.clients.insert(id.clone(), Rc::downgrade(remote));
        id
    }

    /// Client `from`'s message `m` to the host.
    fn to_host(&self, from: &str, m: JsValue) {
        let host = {
            let mut st = self.state.borrow_mut();
            match (&st.host, st.held) {
                (Some(host), true) => host.clone(),
                _ => return st.queue.push((from.into(), m)),
            }
        };
        if host == self.tab {
            let hosting = self.state.borrow().hosting.clone();
            let from = from.to_string();
            spawn_local(async move {
                if let Some(h) = hosting {
                    h.handle(&from, &m);
                }
            });
        } else {
            self.broadcast(&message(&[
                ("k", "to-host".into()),
                ("host", host.as_str().into()),
                ("from", from.into()),
                ("m", m),
            ]));
        }
    }

    /// The host's message `m` to the clients `to`: one message on the channel for all those of
    /// other tabs (each tab reads every message on the channel, so one per client would cost
    /// each tab as many).
    fn to_clients(&self, to: &[String], m: JsValue) {
        let (local, others): (Vec<&String>, Vec<&String>) = to
            .iter()
            .partition(|id| id.split('.').next() == Some(self.tab.as_str()));
        match others.len() {
            0 => {}
            1 => self.to_client(others[0], m.clone()),
            _ => {
                let ids: Array = others.iter().map(|id| JsValue::from_str(id)).collect();
                self.broadcast(&message(&[
                    ("k", "to-clients".into()),
                    ("to", ids.into()),
                    ("m", m.clone()),
                ]));
            }
        }
        for id in local {
            self.to_client(id, m.clone());
        }
    }

    /// The host's message `m` to client `to`.
    fn to_client(&self, to: &str, m: JsValue) {
        if to.split('.').next() == Some(self.tab.as_str()) {
            let remote = self.state.borrow().clients.get(to).and_then(Weak::upgrade);
            if let Some(remote) = remote {
                spawn_local(async move { remote.receive(&m) });
            }
        } else {
            self.broadcast(&message(&[
                ("k", "to-client".into()),
                ("to", to.into()),
                ("m", m),
            ]));
        }
    }

    /// Sends what waited, once the host is known and this tab holds its lock.
    fn flush(&self) {
        let queue = {
            let mut st = self.state.borrow_mut();
            if st.host.is_none() || !st.held {
                return;
            }
            std::mem::take(&mut st.queue)
        };
        for (from, m) in queue {
            self.to_host(&from, m);
        }
    }

    /// The host is tab `id`: if it changed, this page's clients lost the old one.
    fn host_is(&self, id: String) {
        let (had, clients) = {
            let mut st = self.state.borrow_mut();
            if st.host.as_deref() == Some(id.as_str()) {
                return;
            }
            let had = st.host.replace(id).is_some();
            let clients: Vec<_> = st.clients.values().filter_map(Weak::upgrade).collect();
            (had, clients)
        };
        if had {
            for c in clients {
                c.lost();
            }
        }
        self.flush();
    }

    fn on_channel(&self, d: JsValue) {
        let hosting = self.state.borrow().hosting.clone();
        match text(&d, "k").as_str() {
            "host" => self.host_is(text(&d, "id")),
            "who" if hosting.is_some() => self.broadcast(&message(&[
                ("k", "host".into()),
                ("id", self.tab.as_str().into()),
            ])),
            "to-host" if text(&d, "host") == self.tab => {
                if let Some(h) = hosting {
                    h.handle(&text(&d, "from"), &field(&d, "m"));
                }
            }
            "to-client" => {
                let to = text(&d, "to");
                let remote = self.state.borrow().clients.get(&to).and_then(Weak::upgrade);
                if let Some(remote) = remote {
                    remote.receive(&field(&d, "m"));
                }
            }
            "to-clients" => {
                let Ok(to) = field(&d, "to").dyn_into::<Array>() else {
                    return;
                };
                let m = field(&d, "m");
                // Only this page's, which the message names first by their tab.
                let remotes: Vec<Rc<RemoteInner>> = {
                    let st = self.state.borrow();
                    to.iter()
                        .filter_map(|id| id.as_string())
                        .filter_map(|id| st.clients.get(&id).and_then(Weak::upgrade))
                        .collect()
                };
                for remote in remotes {
                    remote.receive(&m);
                }
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The tab's side

/// Stands in for a manager's `Link` when it shares its connection: every call goes to the host
/// as a message, every message from the host comes back as the event the `Link` would have
/// raised.
pub(super) struct Remote {
    inner: Rc<RemoteInner>,
}

struct RemoteInner {
    id: RefCell<String>,
    election: Rc<Election>,
    /// The hello that opens (or joins) the shared connection: its key and config.
    hello: JsValue,
    sink: Box<dyn Fn(Event)>,
    on_tabs: Box<dyn Fn(u32)>,
    st: RefCell<RemoteState>,
    /// Events raised while others are being delivered wait their turn (as with a `Link`).
    pending: RefCell<VecDeque<Event>>,
    delivering: Cell<bool>,
}

#[derive(Default)]
struct RemoteState {
    hello_said: bool,
    /// Namespaces this manager wants connected: the auth to connect with, or `None` to be
    /// asked for it at every connect.
    want: HashMap<String, Option<Option<String>>>,
    /// Namespaces the host says are connected.
    up: HashSet<String>,
    /// Acks waiting: id → namespace.
    acks: HashMap<u64, String>,
    next: u64,
    open: bool,
    transport: &'static str,
    /// The host changed: the next open is a reconnection.
    reconnecting: bool,
}

impl Remote {
    /// A manager's connection shared among the tabs, if this browser can share: `key` names it
    /// (the sharing's name and the server's URL), `config` is the text the host makes its `Link`
    /// from with `make`; `sink` gets the session's events, `on_tabs` the number of tabs sharing.
    pub fn new(
        key: String,
        config: String,
        make: LinkMaker,
        sink: impl Fn(Event) + 'static,
        on_tabs: impl Fn(u32) + 'static,
    ) -> Option<Remote> {
        let election = Election::get(make)?;
        let hello = message(&[
            ("t", "hello".into()),
            ("key", key.into()),
            ("config", config.into()),
            ("tab", election.tab.as_str().into()),
        ]);
        let inner = Rc::new(RemoteInner {
            id: RefCell::new(String::new()),
            election,
            hello,
            sink: Box::new(sink),
            on_tabs: Box::new(on_tabs),
            st: RefCell::new(RemoteState::default()),
            pending: RefCell::new(VecDeque::new()),
            delivering: Cell::new(false),
        });
        *inner.id.borrow_mut() = inner.election.client(&inner);
        Some(Remote { inner })
    }

    pub fn connect(&self, nsp: &str, auth: Option<String>) {
        self.inner.connect(nsp, Some(auth));
    }

    pub fn connect_asking_auth(&self, nsp: &str) {
        self.inner.connect(nsp, None);
    }

    pub fn provide_auth(&self, nsp: &str, auth: Option<String>) {
        self.inner.post(message(&[
            ("t", "auth".into()),
            ("nsp", nsp.into()),
            ("auth", str_value(auth.as_deref())),
        ]));
    }

    /// Disconnects `nsp` for this manager: it sees its disconnect and its acks there fail at
    /// once, as with its own connection; the host disconnects the namespace when no manager
    /// uses it.
    pub fn disconnect(&self, nsp: &str) {
        let inner = &self.inner;
        let (was_up, failed, said) = {
            let mut st = inner.st.borrow_mut();
            st.want.remove(nsp);
            let failed: Vec<u64> = st
                .acks
                .iter()
                .filter(|(_, n)| *n == nsp)
                .map(|(id, _)| *id)
                .collect();
            for id in &failed {
                st.acks.remove(id);
            }
            (st.up.remove(nsp), failed, st.hello_said)
        };
        // Told even when this side thinks the namespace is gone (the server disconnected it):
        // the host counts this manager among its users until then.
        if said {
            inner.post(message(&[("t", "disconnect".into()), ("nsp", nsp.into())]));
        }
        if was_up {
            inner.deliver(made(
                EventKind::Disconnect,
                nsp,
                Some(DisconnectReason::IoClientDisconnect),
                None,
            ));
        }
        for id in failed {
            inner.deliver(made(EventKind::AckFailed, nsp, None, Some(id)));
        }
    }

    /// Sends the emit to the host. The host's buffer is not seen from here: an emit it cannot
    /// take fails its ack, if it has one.
    pub fn emit(
        &self,
        nsp: &str,
        data: String,
        attachments: Bins,
        ack: Option<Option<Millis>>,
    ) -> Result<Option<u64>, crate::session::EmitError> {
        let inner = &self.inner;
        if inner.election.full() {
            return Err(crate::session::EmitError::BufferFull);
        }
        let id = ack.map(|_| {
            let mut st = inner.st.borrow_mut();
            st.next += 1;
            let id = st.next;
            st.acks.insert(id, nsp.into());
            id
        });
        inner.post(message(&[
            ("t", "emit".into()),
            ("nsp", nsp.into()),
            ("data", data.into()),
            ("bins", attachments.map_or(JsValue::NULL, Into::into)),
            ("ack", ack_value(ack)),
            ("id", id.map_or(JsValue::NULL, |n| (n as f64).into())),
        ]));
        Ok(id)
    }

    /// Sent only if the namespace is connected as the host last said.
    pub fn emit_volatile(&self, nsp: &str, data: String, attachments: Bins) -> bool {
        if !self.inner.st.borrow().up.contains(nsp) {
            return false;
        }
        self.inner.post(message(&[
            ("t", "volatile".into()),
            ("nsp", nsp.into()),
            ("data", data.into()),
            ("bins", attachments.map_or(JsValue::NULL, Into::into)),
        ]));
        true
    }

    pub fn ack(&self, nsp: &str, id: u64, data: String, attachments: Bins) {
        self.inner.post(message(&[
            ("t", "answer".into()),
            ("nsp", nsp.into()),
            ("id", (id as f64).into()),
            ("data", data.into()),
            ("bins", attachments.map_or(JsValue::NULL, Into::into)),
        ]));
    }

    pub fn set_ack_timeout(&self, id: u64, timeout: Option<Millis>) {
        self.inner.post(message(&[
            ("t", "timeout".into()),
            ("id", (id as f64).into()),
            ("ack", ack_value(Some(timeout))),
        ]));
    }

    pub fn cancel_ack(&self, nsp: &str, id: u64) {
        if self.inner.st.borrow_mut().acks.remove(&id).is_some() {
            self.inner.post(message(&[
                ("t", "cancel".into()),
                ("nsp", nsp.into()),
                ("id", (id as f64).into()),
            ]));
        }
    }

    /// This manager leaves the connection (which closes with its last manager): it sees what
    /// a closed connection of its own would show.
    pub fn close(&self) {
        self.inner.leave(DisconnectReason::IoClientDisconnect, true);
    }

    pub fn transport_name(&self) -> &'static str {
        self.inner.st.borrow().transport
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        self.inner
            .leave(DisconnectReason::IoClientDisconnect, false);
        let id = self.inner.id.borrow().clone();
        self.inner.election.state.borrow_mut().clients.remove(&id);
    }
}

impl RemoteInner {
    fn post(&self, m: JsValue) {
        let said = std::mem::replace(&mut self.st.borrow_mut().hello_said, true);
        let id = self.id.borrow().clone();
        if !said {
            self.election.to_host(&id, self.hello.clone());
        }
        self.election.to_host(&id, m);
    }

    fn connect(&self, nsp: &str, auth: Option<Option<String>>) {
        self.st.borrow_mut().want.insert(nsp.into(), auth.clone());
        self.post(connect_message(nsp, &auth));
    }

    /// Delivers `ev` to the manager, after those being delivered.
    fn deliver(&self, ev: Event) {
        self.pending.borrow_mut().push_back(ev);
        if self.delivering.replace(true) {
            return;
        }
        loop {
            let next = self.pending.borrow_mut().pop_front();
            let Some(ev) = next else { break };
            (self.sink)(ev);
        }
        self.delivering.set(false);
    }

    /// Leaves the connection: what was connected disconnects (`reason`), what waited for an
    /// ack fails; told to the manager if `tell`.
    fn leave(&self, reason: DisconnectReason, tell: bool) {
        let (said, up, acks, open) = {
            let mut st = self.st.borrow_mut();
            st.want.clear();
            let up: Vec<String> = st.up.drain().collect();
            let acks: Vec<(u64, String)> = st.acks.drain().collect();
            st.transport = "";
            (
                std::mem::take(&mut st.hello_said),
                up,
                acks,
                std::mem::take(&mut st.open),
            )
        };
        if said {
            let id = self.id.borrow().clone();
            self.election
                .to_host(&id, message(&[("t", "close".into())]));
        }
        if !tell {
            return;
        }
        for nsp in up {
            self.deliver(made(EventKind::Disconnect, &nsp, Some(reason), None));
        }
        for (id, nsp) in acks {
            self.deliver(made(EventKind::AckFailed, &nsp, None, Some(id)));
        }
        if open {
            self.deliver(made(EventKind::EngineClose, "", Some(reason), None));
        }
    }

    /// The host is gone: what was connected disconnects ("transport close"), what waited for
    /// an ack fails, and this manager says hello again, to the next host, as a reconnection.
    fn lost(&self) {
        let (open, up, acks, said) = {
            let mut st = self.st.borrow_mut();
            let open = std::mem::take(&mut st.open) || !st.transport.is_empty();
            st.transport = "";
            let up: Vec<String> = st.up.drain().collect();
            let acks: Vec<(u64, String)> = st.acks.drain().collect();
            (open, up, acks, std::mem::take(&mut st.hello_said))
        };
        if open {
            self.deliver(made(
                EventKind::EngineClose,
                "",
                Some(DisconnectReason::TransportClose),
                None,
            ));
        }
        for nsp in up {
            self.deliver(made(
                EventKind::Disconnect,
                &nsp,
                Some(DisconnectReason::TransportClose),
                None,
            ));
        }
        for (id, nsp) in acks {
            self.deliver(made(EventKind::AckFailed, &nsp, None, Some(id)));
        }
        // What the listeners left: a manager dropped meanwhile says nothing more, one that
        // disconnected a namespace does not ask for it again.
        let id = self.id.borrow().clone();
        if !said || !self.election.state.borrow().clients.contains_key(&id) {
            return;
        }
        let want: Vec<(String, Option<Option<String>>)> = {
            let mut st = self.st.borrow_mut();
            st.reconnecting = !st.want.is_empty();
            st.want
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        if !want.is_empty() {
            self.deliver(made(EventKind::ReconnectAttempt, "", None, Some(1)));
            if !self.election.state.borrow().clients.contains_key(&id) {
                return;
            }
        }
        // Said again even with nothing to connect, so that the new host counts this tab.
        self.st.borrow_mut().hello_said = true;
        self.election.to_host(&id, self.hello.clone());
        for (nsp, auth) in want {
            if self.st.borrow().want.contains_key(&nsp) {
                self.post(connect_message(&nsp, &auth));
            }
        }
    }

    /// A message from the host.
    fn receive(&self, m: &JsValue) {
        match text(m, "t").as_str() {
            "tabs" => (self.on_tabs)(number(m, "n").unwrap_or(0.0) as u32),
            "ev" => {
                let Some(ev) = event_of(m) else { return };
                let nsp = ev.nsp.as_str();
                let reconnected = {
                    let mut st = self.st.borrow_mut();
                    let pass = match ev.kind {
                        EventKind::EngineOpen => {
                            st.open = true;
                            true
                        }
                        EventKind::EngineClose => {
                            st.open = false;
                            true
                        }
                        EventKind::Connect => st.want.contains_key(nsp) && st.up.insert(nsp.into()),
                        EventKind::Disconnect => {
                            if matches!(
                                ev.reason,
                                Some(
                                    DisconnectReason::IoServerDisconnect
                                        | DisconnectReason::IoClientDisconnect
                                )
                            ) {
                                st.want.remove(nsp);
                            }
                            st.up.remove(nsp)
                        }
                        EventKind::Event => st.up.contains(nsp),
                        EventKind::Ack | EventKind::AckFailed => {
                            ev.id.is_some_and(|id| st.acks.remove(&id).is_some())
                        }
                        EventKind::ConnectError => {
                            let wanted = st.want.contains_key(nsp);
                            // Refused by the server: not tried again by itself.
                            if ev.data.is_some() {
                                st.want.remove(nsp);
                            }
                            wanted
                        }
                        EventKind::AuthRequest => st.want.contains_key(nsp),
                        _ => true,
                    };
                    if !pass {
                        return;
                    }
                    if nsp.is_empty() {
                        st.transport = match text(m, "transport").as_str() {
                            "websocket" => "websocket",
                            "polling" => "polling",
                            _ => "",
                        };
                    }
                    ev.kind == EventKind::EngineOpen && std::mem::take(&mut st.reconnecting)
                };
                self.deliver(ev);
                if reconnected {
                    self.deliver(made(EventKind::Reconnect, "", None, Some(1)));
                }
            }
            _ => {}
        }
    }
}

fn connect_message(nsp: &str, auth: &Option<Option<String>>) -> JsValue {
    message(&[
        ("t", "connect".into()),
        ("nsp", nsp.into()),
        ("ask", auth.is_none().into()),
        ("auth", str_value(auth.as_ref().and_then(|a| a.as_deref()))),
    ])
}

// ---------------------------------------------------------------------------------------------
// The host's side

/// The host of the shared connections, in the elected tab.
struct Host {
    election: Weak<Election>,
    /// The connections, by key.
    conns: RefCell<HashMap<String, Rc<Shared>>>,
    /// Each client's connection, by client id.
    clients: RefCell<HashMap<String, Rc<Shared>>>,
    /// The tabs whose lock is waited for.
    watched: RefCell<HashSet<String>>,
}

impl Host {
    fn new(election: Weak<Election>) -> Rc<Host> {
        Rc::new(Host {
            election,
            conns: RefCell::default(),
            clients: RefCell::default(),
            watched: RefCell::default(),
        })
    }

    fn post(&self, to: &str, m: JsValue) {
        if let Some(e) = self.election.upgrade() {
            e.to_client(to, m);
        }
    }

    fn post_all(&self, to: &[String], m: JsValue) {
        if let Some(e) = self.election.upgrade() {
            e.to_clients(to, m);
        }
    }

    /// Client `from`'s message `m`.
    fn handle(self: &Rc<Self>, from: &str, m: &JsValue) {
        let t = text(m, "t");
        if t == "hello" {
            self.leave(from);
            let tab = text(m, "tab");
            self.watch(&tab);
            let key = text(m, "key");
            let existing = self.conns.borrow().get(&key).cloned();
            let conn = match existing {
                Some(c) => c,
                None => {
                    let Some(c) = Shared::new(self, &key, &text(m, "config")) else {
                        // A config this build cannot read: the client is told, as a failed attempt.
                        let mut ev = made(EventKind::ReconnectError, "", None, None);
                        ev.text =
                            "rtio: the shared connection's host cannot read its options".into();
                        return self.post(from, event_message(&ev, None, ""));
                    };
                    self.conns.borrow_mut().insert(key, Rc::clone(&c));
                    c
                }
            };
            self.clients
                .borrow_mut()
                .insert(from.into(), Rc::clone(&conn));
            conn.join(from, &tab);
            return;
        }
        let conn = self.clients.borrow().get(from).cloned();
        if let Some(conn) = conn {
            if t == "close" {
                return self.leave(from);
            }
            conn.on(from, &t, m);
        }
    }

    /// Client `id` leaves its connection, if it has one.
    fn leave(&self, id: &str) {
        let conn = self.clients.borrow_mut().remove(id);
        if let Some(conn) = conn {
            if conn.leave(id) {
                self.conns.borrow_mut().remove(&conn.key);
            }
        }
    }

    /// When tab `tab` closes (its lock is free), its clients leave.
    fn watch(self: &Rc<Self>, tab: &str) {
        let Some(e) = self.election.upgrade() else {
            return;
        };
        if tab.is_empty() || !self.watched.borrow_mut().insert(tab.into()) {
            return;
        }
        let weak = Rc::downgrade(self);
        let gone = tab.to_string();
        lock(&e.locks, &format!("{TAB_LOCK}{tab}"), false, move || {
            let Some(host) = weak.upgrade() else { return };
            host.watched.borrow_mut().remove(&gone);
            let prefix = format!("{gone}.");
            let ids: Vec<String> = host
                .clients
                .borrow()
                .keys()
                .filter(|k| k.starts_with(&prefix))
                .cloned()
                .collect();
            for id in ids {
                host.leave(&id);
            }
        });
    }
}

/// One shared connection: its `Link` and the clients it serves.
struct Shared {
    key: String,
    host: Weak<Host>,
    link: RefCell<Option<Link>>,
    st: RefCell<SharedState>,
}

#[derive(Default)]
struct SharedState {
    /// The clients and their tabs.
    clients: Vec<(String, String)>,
    ns: HashMap<String, Ns>,
    /// Acks of clients' emits: the link's id → (client, the client's id, namespace).
    acks: HashMap<u64, (String, u64, String)>,
    /// Acks the server asked for and no client gave yet: (namespace, id), oldest first.
    asks: VecDeque<(String, u64)>,
    /// Rooms held: (namespace, room) → who holds it.
    rooms: HashMap<(String, String), Hold>,
    /// The Engine.IO session id while the connection is open.
    open: Option<String>,
    transport: &'static str,
    /// The clients told of the current open.
    told: HashSet<String>,
    /// The emit being made, whose ack may fail before its id is known (a transport that fails
    /// as the packet is written): (client, the client's id, namespace).
    emitting: Option<(String, u64, String)>,
    /// The link's last ack id (its ids only grow): a later one can only be the emit's being made.
    last_id: Option<u64>,
}

#[derive(Default)]
struct Ns {
    clients: Vec<String>,
    connected: bool,
    connecting: bool,
    sid: String,
    /// The client whose auth connects the namespace (the first to connect it, while it uses
    /// it), and how: its auth payload, or `None` to be asked at every connect.
    auth_from: Option<String>,
    mode: Option<Option<String>>,
    /// An auth payload was asked of `auth_from` and not given yet.
    asked: bool,
}

#[derive(Default)]
struct Hold {
    clients: Vec<String>,
    /// The meta of the last join, if it asked for its tabs to be counted.
    meta: Option<serde_json::Map<String, Value>>,
    told: usize,
}

impl Shared {
    fn new(host: &Rc<Host>, key: &str, config: &str) -> Option<Rc<Shared>> {
        let make = host.election.upgrade()?.make;
        let shared = Rc::new(Shared {
            key: key.into(),
            host: Rc::downgrade(host),
            link: RefCell::new(None),
            st: RefCell::new(SharedState::default()),
        });
        let weak = Rc::downgrade(&shared);
        let link = make(
            config,
            Box::new(move |ev| {
                if let Some(s) = weak.upgrade() {
                    s.route(ev);
                }
            }),
        )?;
        *shared.link.borrow_mut() = Some(link);
        Some(shared)
    }

    fn link(&self) -> Option<Link> {
        self.link.borrow().clone()
    }

    fn post(&self, to: &str, m: JsValue) {
        if let Some(h) = self.host.upgrade() {
            h.post(to, m);
        }
    }

    fn post_event(&self, to: &str, ev: &Event, id: Option<u64>) {
        let transport = self.st.borrow().transport;
        self.post(to, event_message(ev, id, transport));
    }

    /// How many tabs the clients use.
    fn tabs(&self) -> u32 {
        let st = self.st.borrow();
        st.clients
            .iter()
            .map(|(_, tab)| tab)
            .collect::<HashSet<_>>()
            .len() as u32
    }

    fn count(&self) {
        let n = self.tabs();
        let ids: Vec<String> = self
            .st
            .borrow()
            .clients
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            self.post(&id, message(&[("t", "tabs".into()), ("n", n.into())]));
        }
    }

    fn join(&self, id: &str, tab: &str) {
        self.st.borrow_mut().clients.push((id.into(), tab.into()));
        self.count();
    }

    /// Tells client `id` that the connection is open, if it is and it was not told.
    fn opened(&self, id: &str) {
        let sid = {
            let mut st = self.st.borrow_mut();
            match st.open.clone() {
                Some(sid) if st.told.insert(id.into()) => sid,
                _ => return,
            }
        };
        let mut ev = made(EventKind::EngineOpen, "", None, None);
        ev.text = sid;
        self.post_event(id, &ev, None);
    }

    /// Client `id` leaves: its namespaces, its acks. True when it was the last (the
    /// connection is closed).
    fn leave(&self, id: &str) -> bool {
        let nss: Vec<String> = {
            let mut st = self.st.borrow_mut();
            st.clients.retain(|(c, _)| c != id);
            st.told.remove(id);
            st.ns
                .iter()
                .filter(|(_, ns)| ns.clients.iter().any(|c| c == id))
                .map(|(n, _)| n.clone())
                .collect()
        };
        for nsp in nss {
            self.part(id, &nsp);
        }
        // What is left of it in namespaces it no longer counts in (refused ones): its acks
        // and rooms.
        let (cancel, recount) = {
            let mut st = self.st.borrow_mut();
            let cancel: Vec<(u64, String)> = st
                .acks
                .iter()
                .filter(|(_, (c, _, _))| c == id)
                .map(|(h, (_, _, n))| (*h, n.clone()))
                .collect();
            for (h, _) in &cancel {
                st.acks.remove(h);
            }
            let mut recount = Vec::new();
            st.rooms.retain(|key, hold| {
                let before = hold.clients.len();
                hold.clients.retain(|c| c != id);
                if hold.clients.len() != before && !hold.clients.is_empty() {
                    recount.push(key.clone());
                }
                !hold.clients.is_empty()
            });
            (cancel, recount)
        };
        if let Some(link) = self.link() {
            for (h, nsp) in cancel {
                link.cancel_ack(&nsp, h);
            }
        }
        for (nsp, room) in recount {
            self.recount(&nsp, &room);
        }
        if !self.st.borrow().clients.is_empty() {
            self.count();
            return false;
        }
        let link = self.link.borrow_mut().take();
        if let Some(link) = link {
            link.close();
        }
        true
    }

    /// Client `id` leaves namespace `nsp`: its rooms there, its pending acks; the last one
    /// disconnects it.
    fn part(&self, id: &str, nsp: &str) {
        let link = self.link();
        let (last, leave, recount, cancel, ask) = {
            let mut st = self.st.borrow_mut();
            let Some(ns) = st.ns.get_mut(nsp) else { return };
            let before = ns.clients.len();
            ns.clients.retain(|c| c != id);
            if ns.clients.len() == before {
                return;
            }
            let last = ns.clients.is_empty();
            if last {
                ns.connected = false;
                ns.connecting = false;
                ns.asked = false;
            }
            // The client asked for the auth leaves before giving it: the next one is asked.
            let ask = (ns.asked && ns.auth_from.as_deref() == Some(id))
                .then(|| ns.clients.first().cloned())
                .flatten();
            if ask.is_some() {
                ns.auth_from = ask.clone();
            }
            let mut leave = Vec::new();
            let mut recount = Vec::new();
            st.rooms.retain(|(n, room), hold| {
                if n != nsp || !hold.clients.iter().any(|c| c == id) {
                    return true;
                }
                hold.clients.retain(|c| c != id);
                if hold.clients.is_empty() {
                    leave.push(room.clone());
                    false
                } else {
                    recount.push(room.clone());
                    true
                }
            });
            let cancel: Vec<u64> = st
                .acks
                .iter()
                .filter(|(_, (c, _, n))| c == id && n == nsp)
                .map(|(h, _)| *h)
                .collect();
            for h in &cancel {
                st.acks.remove(h);
            }
            (last, leave, recount, cancel, ask)
        };
        if let Some(to) = ask {
            self.post_event(&to, &made(EventKind::AuthRequest, nsp, None, None), None);
        }
        let Some(link) = link else { return };
        for h in cancel {
            link.cancel_ack(nsp, h);
        }
        if last {
            // The disconnect leaves every room.
            link.disconnect(nsp);
            return;
        }
        for room in leave {
            let data = Value::Array(vec!["rtio:leave".into(), room.into()]).to_string();
            let _ = link.emit(nsp, data, None, None);
        }
        for room in recount {
            self.recount(nsp, &room);
        }
    }

    /// Client `id`'s message `m`, of type `t`.
    fn on(&self, id: &str, t: &str, m: &JsValue) {
        let Some(link) = self.link() else { return };
        let nsp = text(m, "nsp");
        match t {
            "connect" => {
                self.opened(id);
                let mode = if field(m, "ask").is_truthy() {
                    None
                } else {
                    Some(text_or_none(m, "auth"))
                };
                let (connected, mode) = {
                    let mut st = self.st.borrow_mut();
                    let ns = st.ns.entry(nsp.clone()).or_default();
                    if !ns.clients.iter().any(|c| c == id) {
                        ns.clients.push(id.into());
                    }
                    if !ns.connected && !ns.connecting {
                        ns.connecting = true;
                        ns.auth_from = Some(id.into());
                        ns.mode = mode;
                    }
                    (ns.connected.then(|| ns.sid.clone()), ns.mode.clone())
                };
                if let Some(sid) = connected {
                    let mut ev = made(EventKind::Connect, &nsp, None, None);
                    ev.text = sid;
                    self.post_event(id, &ev, None);
                    return;
                }
                // Asked again while it connects changes nothing; asked after the session gave
                // up (or with reconnection off), it starts again.
                match mode {
                    Some(auth) => link.connect(&nsp, auth),
                    None => link.connect_asking_auth(&nsp),
                }
            }
            "auth" => {
                let from = {
                    let mut st = self.st.borrow_mut();
                    let ns = st.ns.get_mut(&nsp);
                    let from = ns.as_ref().and_then(|ns| ns.auth_from.clone());
                    if let (Some(ns), true) = (ns, from.as_deref() == Some(id)) {
                        ns.asked = false;
                    }
                    from
                };
                if from.as_deref() == Some(id) {
                    link.provide_auth(&nsp, text_or_none(m, "auth"));
                }
            }
            "disconnect" => self.part(id, &nsp),
            "emit" => {
                let mut data = text(m, "data");
                let local = number(m, "id").map(|n| n as u64);
                if self.room(id, &nsp, &mut data, local) {
                    return;
                }
                self.st.borrow_mut().emitting = local.map(|l| (id.to_string(), l, nsp.clone()));
                let sent = link.emit(&nsp, data, bins(m), ack_of(m, "ack"));
                // Still there unless its ack already failed, reported to the client.
                let pending = self.st.borrow_mut().emitting.take();
                match sent {
                    Ok(Some(h)) => {
                        let mut st = self.st.borrow_mut();
                        st.last_id = Some(h);
                        if let Some(p) = pending {
                            st.acks.insert(h, p);
                        }
                    }
                    Ok(None) => {}
                    Err(_) => {
                        // The send buffer is full: this emit is refused.
                        if let Some((_, local, _)) = pending {
                            self.post_event(
                                id,
                                &made(EventKind::AckFailed, &nsp, None, Some(local)),
                                None,
                            );
                        }
                    }
                }
            }
            "volatile" => {
                link.emit_volatile(&nsp, text(m, "data"), bins(m));
            }
            "answer" => {
                let Some(n) = number(m, "id").map(|n| n as u64) else {
                    return;
                };
                let asked = {
                    let mut st = self.st.borrow_mut();
                    let at = st.asks.iter().position(|(a, b)| *a == nsp && *b == n);
                    at.and_then(|i| st.asks.remove(i)).is_some()
                };
                if asked {
                    link.ack(&nsp, n, text(m, "data"), bins(m));
                }
            }
            "timeout" | "cancel" => {
                let Some(local) = number(m, "id").map(|n| n as u64) else {
                    return;
                };
                let found = {
                    let st = self.st.borrow();
                    st.acks
                        .iter()
                        .find(|(_, (c, l, _))| c == id && *l == local)
                        .map(|(h, (_, _, n))| (*h, n.clone()))
                };
                let Some((h, ns)) = found else { return };
                if t == "timeout" {
                    link.set_ack_timeout(h, ack_of(m, "ack").flatten());
                } else {
                    self.st.borrow_mut().acks.remove(&h);
                    link.cancel_ack(&ns, h);
                }
            }
            _ => {}
        }
    }

    /// Keeps count of who holds each room, from client `id`'s emit `data` on `nsp`; true when it
    /// is an `rtio:leave` of a room another client still holds, answered here instead of sent.
    fn room(&self, id: &str, nsp: &str, data: &mut String, local: Option<u64>) -> bool {
        let join = data.starts_with("[\"rtio:join\",");
        if !join && !data.starts_with("[\"rtio:leave\",") {
            return false;
        }
        let Ok(Value::Array(mut args)) = serde_json::from_str::<Value>(data) else {
            return false;
        };
        let Some(name) = args.get(1).and_then(Value::as_str).map(String::from) else {
            return false;
        };
        let key = (nsp.to_string(), name.clone());
        if join {
            let tabs = {
                let mut st = self.st.borrow_mut();
                let hold = st.rooms.entry(key.clone()).or_default();
                if !hold.clients.iter().any(|c| c == id) {
                    hold.clients.push(id.into());
                }
                hold.meta = match args.get(2) {
                    Some(Value::Object(meta)) if meta.contains_key("tabs") => Some(meta.clone()),
                    _ => None,
                };
                hold.meta.is_some()
            };
            if tabs {
                let n = self.room_tabs(&key);
                if let Some(Value::Object(meta)) = args.get_mut(2) {
                    meta.insert("tabs".into(), n.into());
                }
                if let Some(hold) = self.st.borrow_mut().rooms.get_mut(&key) {
                    hold.told = n;
                }
                *data = Value::Array(args).to_string();
            }
            return false;
        }
        let held = {
            let mut st = self.st.borrow_mut();
            let Some(hold) = st.rooms.get_mut(&key) else {
                return false;
            };
            hold.clients.retain(|c| c != id);
            if hold.clients.is_empty() {
                st.rooms.remove(&key);
                false
            } else {
                true
            }
        };
        if !held {
            return false;
        }
        self.recount(nsp, &name);
        if let Some(local) = local {
            let mut ev = made(EventKind::Ack, nsp, None, Some(local));
            ev.data = Some("[{\"ok\":true}]".into());
            self.post_event(id, &ev, None);
        }
        true
    }

    /// How many tabs hold room `key`.
    fn room_tabs(&self, key: &(String, String)) -> usize {
        let st = self.st.borrow();
        let Some(hold) = st.rooms.get(key) else {
            return 0;
        };
        let tabs: HashSet<&String> = st
            .clients
            .iter()
            .filter(|(c, _)| hold.clients.contains(c))
            .map(|(_, tab)| tab)
            .collect();
        tabs.len()
    }

    /// A room that counts its tabs and is still held: its meta is updated if the count changed.
    fn recount(&self, nsp: &str, room: &str) {
        let key = (nsp.to_string(), room.to_string());
        let n = self.room_tabs(&key);
        let meta = {
            let mut st = self.st.borrow_mut();
            let Some(hold) = st.rooms.get_mut(&key) else {
                return;
            };
            match &hold.meta {
                Some(meta) if n > 0 && n != hold.told => {
                    hold.told = n;
                    let mut meta = meta.clone();
                    meta.insert("tabs".into(), n.into());
                    meta
                }
                _ => return,
            }
        };
        if let Some(link) = self.link() {
            let data = Value::Array(vec!["rtio:join".into(), room.into(), Value::Object(meta)])
                .to_string();
            let _ = link.emit(nsp, data, None, None);
        }
    }

    /// An event of the connection's session, to the clients it concerns.
    fn route(&self, ev: Event) {
        let nsp = ev.nsp.to_string();
        let mut no_auth = false;
        let mut return_to = None;
        let (to, id): (Vec<String>, Option<u64>) = {
            let mut st = self.st.borrow_mut();
            let st = &mut *st;
            if nsp.is_empty() {
                match ev.kind {
                    EventKind::EngineOpen => {
                        st.open = Some(ev.text.clone());
                        st.told = st.clients.iter().map(|(c, _)| c.clone()).collect();
                    }
                    EventKind::EngineClose => {
                        st.open = None;
                        st.told.clear();
                    }
                    EventKind::ReconnectFailed => {
                        // The session gave up: the next connect of a tab starts again, with
                        // that tab's auth.
                        for ns in st.ns.values_mut() {
                            ns.connecting = false;
                        }
                    }
                    _ => {}
                }
                st.transport = self
                    .link
                    .try_borrow()
                    .ok()
                    .and_then(|l| l.as_ref().map(Link::transport_name))
                    .unwrap_or("");
                (st.clients.iter().map(|(c, _)| c.clone()).collect(), None)
            } else {
                match ev.kind {
                    EventKind::Ack | EventKind::AckFailed => {
                        let found = ev.id.and_then(|h| st.acks.remove(&h));
                        let new = ev.id > st.last_id;
                        let found = found.or_else(|| if new { st.emitting.take() } else { None });
                        let Some((client, local, _)) = found else {
                            return;
                        };
                        (vec![client], Some(local))
                    }
                    _ => {
                        let Some(ns) = st.ns.get_mut(&nsp) else {
                            return;
                        };
                        let to = ns.clients.clone();
                        match ev.kind {
                            EventKind::Connect => {
                                ns.connected = true;
                                ns.connecting = false;
                                ns.sid = ev.text.clone();
                            }
                            EventKind::Disconnect => {
                                ns.connected = false;
                                // After a server's or the client's disconnect, nothing
                                // reconnects it by itself.
                                if matches!(
                                    ev.reason,
                                    Some(
                                        DisconnectReason::IoServerDisconnect
                                            | DisconnectReason::IoClientDisconnect
                                    )
                                ) {
                                    ns.connecting = false;
                                }
                            }
                            EventKind::ConnectError if ev.data.is_some() => {
                                // Refused: the clients of the namespace are let go.
                                ns.connecting = false;
                                ns.clients.clear();
                            }
                            EventKind::Event => {
                                if let Some(id) = ev.id {
                                    st.asks.push_back((nsp.clone(), id));
                                    if st.asks.len() > ASKS {
                                        st.asks.pop_front();
                                    }
                                }
                            }
                            EventKind::AuthRequest => {
                                // From the client that connected the namespace first, while it
                                // uses it; with none, the session gets no auth.
                                let from = ns
                                    .auth_from
                                    .clone()
                                    .filter(|a| ns.clients.contains(a))
                                    .or_else(|| ns.clients.first().cloned());
                                ns.auth_from = from.clone();
                                ns.asked = from.is_some();
                                if from.is_none() {
                                    no_auth = true;
                                }
                                return_to = from.map(|f| vec![f]);
                            }
                            _ => {}
                        }
                        (return_to.unwrap_or(to), None)
                    }
                }
            }
        };
        if no_auth {
            if let Some(link) = self.link() {
                link.provide_auth(&ev.nsp, None);
            }
        }
        if !to.is_empty() {
            let transport = self.st.borrow().transport;
            if let Some(h) = self.host.upgrade() {
                h.post_all(&to, event_message(&ev, id, transport));
            }
        }
    }
}

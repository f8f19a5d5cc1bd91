//! [`Manager`] (one connection) and [`Socket`] (one namespace on it).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_channel::mpsc;
use futures_core::Stream;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::JsValue;

use super::emitter::{
    ms, typed, warn, AckFuture, AckOwner, AckReply, AckSender, Answer, Emitter, Handler, Listeners,
    Registry, Reply, Subscription, RESERVED,
};
use super::error::{AckError, ConnectError, EmitError};
use super::event::typed_events;
use super::options::{kind::Kind, ClientOptions};
use super::payload::{self, erased::Arg};
use super::room::RoomState;
use super::url;
use crate::session::{AckFailure, DisconnectReason, EventKind, SessionConfig, SessionEvent};
use crate::shell::link;
use crate::shell::polling::TransportOptions;
use crate::shell::websocket::Text;

pub(super) use super::shared::Conn;
use super::shared::Remote;

type Link = link::Link<Text>;
type Event = link::Event<String>;

/// Options of [`Socket::connect`] and [`Manager::new`]: [`ClientOptions`] and Socket.IO's own.
///
/// ```no_run
/// use rtio::Options;
/// use std::time::Duration;
/// let opts = Options::default()
///     .auth(&serde_json::json!({ "token": "t1" }))
///     .ack_timeout(Duration::from_secs(5))
///     .query("room", "lobby");
/// ```
pub type Options = ClientOptions<SocketIo>;

/// The Socket.IO kind of client.
#[derive(Debug, Clone, Copy)]
pub struct SocketIo;

impl Kind for SocketIo {
    type Options = SocketIoSettings;
}

/// Socket.IO's own options (private: reached only through [`Options`]).
mod settings {
    /// Socket.IO's own options.
    #[derive(Debug, Clone)]
    pub struct SocketIoSettings {
        pub(crate) auth: Option<String>,
        pub(crate) auth_fn: Option<super::AuthFn>,
        pub(crate) path: String,
        pub(crate) retries: u32,
        pub(crate) transports: Vec<super::Transport>,
        pub(crate) upgrade: bool,
        pub(crate) remember_upgrade: bool,
        pub(crate) try_all: bool,
        pub(crate) credentials: bool,
        pub(crate) headers: Vec<(String, String)>,
        pub(crate) timestamp: Option<String>,
        pub(crate) close_on_unload: bool,
        /// Shared among the tabs, under this name (`""` for none).
        pub(crate) shared: Option<String>,
    }

    impl Default for SocketIoSettings {
        fn default() -> Self {
            SocketIoSettings {
                auth: None,
                auth_fn: None,
                path: "/socket.io/".into(),
                retries: 0,
                transports: vec![super::Transport::Polling, super::Transport::WebSocket],
                upgrade: true,
                remember_upgrade: false,
                try_all: false,
                credentials: false,
                headers: Vec::new(),
                timestamp: Some("t".into()),
                close_on_unload: false,
                shared: None,
            }
        }
    }
}

/// An Engine.IO transport, for [`Options::transports`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// HTTP long-polling: a `GET` held open by the server for what it sends, `POST`s for what
    /// the client writes. Gets through proxies and networks that block WebSocket.
    Polling,
    /// A WebSocket.
    WebSocket,
}

use settings::SocketIoSettings;

impl ClientOptions<SocketIo> {
    /// The auth payload sent with the namespace CONNECT (the server's `socket.handshake.auth`).
    /// A value that does not serialize to a JSON object is ignored.
    /// Replaces [`auth_with`](Self::auth_with).
    pub fn auth(mut self, auth: &impl Serialize) -> Self {
        self.own.auth = object_json(auth);
        self.own.auth_fn = None;
        self
    }

    /// Makes the auth payload anew for every connect and reconnect (a token refreshed from
    /// your backend, say): `f` returns a future of it, awaited before each CONNECT goes out.
    /// A value that does not serialize to a JSON object sends no auth. Replaces
    /// [`auth`](Self::auth).
    ///
    /// ```no_run
    /// use rtio::Options;
    /// let opts = Options::default().auth_with(|| async {
    ///     // e.g. fetch a fresh token here
    ///     serde_json::json!({ "token": "t2" })
    /// });
    /// ```
    pub fn auth_with<F, Fut, T>(mut self, f: F) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = T> + 'static,
        T: Serialize,
    {
        self.own.auth_fn = Some(AuthFn(Rc::new(move || {
            let fut = f();
            Box::pin(async move { object_json(&fut.await) }) as AuthFuture
        })));
        self.own.auth = None;
        self
    }

    /// The Engine.IO path on the server (default `/socket.io/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.own.path = path.into();
        self
    }

    /// Resends each emit that asks for an ack until it is acknowledged, up to `retries` more
    /// times; such emits go one at a time, in order (default 0: no retries).
    pub fn retries(mut self, retries: u32) -> Self {
        self.own.retries = retries;
        self
    }

    /// The transports to use, the first one first (default: polling, then the upgrade to
    /// WebSocket, as socket.io-client). `&[Transport::WebSocket]` connects over WebSocket
    /// only, without the polling handshake; an empty list keeps the default.
    pub fn transports(mut self, transports: &[Transport]) -> Self {
        if !transports.is_empty() {
            self.own.transports = transports.to_vec();
        }
        self
    }

    /// Whether a connection that starts on polling upgrades to WebSocket when the server
    /// offers it (default true).
    pub fn upgrade(mut self, on: bool) -> Self {
        self.own.upgrade = on;
        self
    }

    /// Once an upgrade to WebSocket has succeeded, later connections of this manager start on
    /// WebSocket (default false).
    pub fn remember_upgrade(mut self, on: bool) -> Self {
        self.own.remember_upgrade = on;
        self
    }

    /// When the WebSocket of an attempt cannot open, try polling in the same attempt
    /// (default false).
    pub fn try_all_transports(mut self, on: bool) -> Self {
        self.own.try_all = on;
        self
    }

    /// Send cookies with cross-origin polling requests (default false), for a server on
    /// another origin that keeps sessions, or a load balancer's sticky-session cookie. The
    /// server must allow credentials in its CORS answer.
    pub fn with_credentials(mut self, on: bool) -> Self {
        self.own.credentials = on;
        self
    }

    /// A header sent with every polling request (an `Authorization`, say). A browser's
    /// WebSocket cannot carry headers: over WebSocket it is not sent.
    pub fn extra_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.own.headers.push((name.into(), value.into()));
        self
    }

    /// Closes the transport when the page is about to unload (`beforeunload`), so that the
    /// server learns at once that the client is gone (default false). Over long-polling the
    /// server would otherwise wait for the heartbeat to time out. If the page stays (the
    /// user cancelled), the connection is made again.
    pub fn close_on_beforeunload(mut self, on: bool) -> Self {
        self.own.close_on_unload = on;
        self
    }

    /// Shares the connection with the other tabs of this origin that ask for the same server
    /// URL (default false): one connection in the tab elected through the Web Locks API,
    /// which the others reach over a `BroadcastChannel`; each tab keeps its own sockets,
    /// listeners and acks; what the server sees and what happens when the tab holding the
    /// connection closes are in the crate's README, "One connection for every tab". Where the
    /// browser has no Web Locks API (which needs HTTPS or localhost), the manager connects on
    /// its own.
    pub fn shared(mut self, on: bool) -> Self {
        self.own.shared = on.then(String::new);
        self
    }

    /// [`shared`](Self::shared), among the managers that give the same `name` only.
    pub fn shared_as(mut self, name: impl Into<String>) -> Self {
        self.own.shared = Some(name.into());
        self
    }

    /// The query parameter that makes each polling request's URL unique, against caches
    /// (default `Some("t")`); `None` leaves it out.
    pub fn timestamp_param(mut self, param: Option<&str>) -> Self {
        self.own.timestamp = param.map(String::from);
        self
    }
}

impl SocketIoSettings {
    /// The shell's view of the transport options.
    fn transport_options(&self) -> TransportOptions {
        let has = |t| self.transports.contains(&t);
        let headers = if crate::shell::BROWSER && !self.headers.is_empty() {
            web_sys::Headers::new()
                .map(|h| {
                    for (k, v) in &self.headers {
                        // An invalid header fails the polling requests, with the browser's
                        // message.
                        let _ = h.append(k, v);
                    }
                    h.into()
                })
                .unwrap_or(JsValue::UNDEFINED)
        } else {
            JsValue::UNDEFINED
        };
        TransportOptions {
            polling: has(Transport::Polling),
            websocket: has(Transport::WebSocket),
            polling_first: self.transports.first() == Some(&Transport::Polling),
            upgrade: self.upgrade,
            remember_upgrade: self.remember_upgrade,
            try_all: self.try_all,
            credentials: self.credentials,
            headers,
            timestamp: self.timestamp.clone(),
            close_on_unload: self.close_on_unload,
        }
    }
}

/// The JSON text of `v` if it serializes to an object (an auth payload).
fn object_json(v: &impl Serialize) -> Option<String> {
    serde_json::to_value(v)
        .ok()
        .filter(Value::is_object)
        .map(|v| v.to_string())
}

type AuthFuture = Pin<Box<dyn Future<Output = Option<String>>>>;

/// The auth function of [`Options::auth_with`].
#[derive(Clone)]
pub(crate) struct AuthFn(Rc<dyn Fn() -> AuthFuture>);

impl std::fmt::Debug for AuthFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthFn")
    }
}

/// What happens to a [`Manager`]'s connection; see [`Manager::on_event`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ManagerEvent {
    /// The connection opened (the Engine.IO handshake completed).
    Open,
    /// The connection closed.
    Close(DisconnectReason),
    /// Reconnection attempt number `n` (from 1) starts.
    ReconnectAttempt(u32),
    /// Attempt `n` succeeded.
    Reconnect(u32),
    /// An attempt failed, for this reason.
    ReconnectError(String),
    /// The manager gave up after [`Options::reconnection_attempts`]; [`Socket::open`] starts
    /// again.
    ReconnectFailed,
    /// The connection moved from HTTP long-polling to WebSocket.
    Upgrade,
    /// A shared connection ([`Options::shared`]) is used by this many tabs now.
    Tabs(u32),
    /// The server sent a packet that was malformed (unreadable JSON, an event without a name,
    /// an event under one of the reserved names such as `disconnect`) and was dropped; the
    /// connection stays up. The message says what was wrong.
    Error(String),
}

/// The Engine.IO URL, the session's config and the transport options of a connection to
/// `url` with `opts`.
fn link_parts(
    url: &str,
    opts: &Options,
) -> Result<(String, SessionConfig, TransportOptions), ConnectError> {
    let target = url::parse(url).ok_or_else(|| ConnectError::InvalidUrl(url.into()))?;
    let mut query = target.query.clone();
    let extra = encode_query(&opts.query);
    if !extra.is_empty() {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(&extra);
    }
    let engine_url = url::engine_url(&target.origin, &opts.own.path, &query);
    let config = SessionConfig {
        connect_timeout: opts.connect_timeout_ms().unwrap_or(u64::MAX),
        max_buffer: opts.max_buffer,
        reconnection: opts.reconnection,
        reconnection_attempts: opts.reconnection_attempts,
        backoff: opts.backoff,
        seed: crate::shell::clock::seed(),
        retries: opts.own.retries,
    };
    Ok((engine_url, config, opts.own.transport_options()))
}

/// A connection of its own to `engine_url`, its events to `sink`.
fn own_link(
    engine_url: String,
    config: SessionConfig,
    transports: TransportOptions,
    sink: Box<dyn Fn(Event)>,
) -> Link {
    Link::new(
        Text,
        Box::new(move |polling| {
            Some(if polling {
                url::polling_url(&engine_url)
            } else {
                engine_url.clone()
            })
        }),
        Some(Box::new(super::debug::frame)),
        None,
        (config, transports),
        sink,
    )
}

/// What the host of a shared connection needs to open it: the URL and the connection's
/// options, as JSON text (the auth is each namespace's, sent when it connects).
fn shared_config(url: &str, opts: &Options) -> String {
    let own = &opts.own;
    serde_json::json!({
        "url": url,
        "reconnection": opts.reconnection,
        "reconnectionAttempts": opts.reconnection_attempts,
        "delay": opts.backoff.initial,
        "delayMax": opts.backoff.max,
        "randomization": opts.backoff.randomization,
        "connectTimeout": ms(opts.connect_timeout),
        "maxBuffer": opts.max_buffer,
        "query": opts.query,
        "path": own.path,
        "retries": own.retries,
        "transports": own.transports.iter().map(|t| matches!(t, Transport::WebSocket)).collect::<Vec<_>>(),
        "upgrade": own.upgrade,
        "rememberUpgrade": own.remember_upgrade,
        "tryAll": own.try_all,
        "credentials": own.credentials,
        "headers": own.headers,
        "timestamp": own.timestamp,
        "closeOnUnload": own.close_on_unload,
    })
    .to_string()
}

/// The host's connection for a hello's [`shared_config`]; `None` if it cannot be read.
fn shared_link(config: &str, sink: Box<dyn Fn(Event)>) -> Option<Link> {
    let c: Value = serde_json::from_str(config).ok()?;
    let flag = |k: &str| c.get(k).and_then(Value::as_bool);
    let num = |k: &str| c.get(k).and_then(Value::as_u64);
    let ws: Vec<bool> = serde_json::from_value(c.get("transports")?.clone()).ok()?;
    let own = SocketIoSettings {
        path: c.get("path")?.as_str()?.into(),
        retries: u32::try_from(num("retries")?).ok()?,
        transports: ws
            .into_iter()
            .map(|ws| {
                if ws {
                    Transport::WebSocket
                } else {
                    Transport::Polling
                }
            })
            .collect(),
        upgrade: flag("upgrade")?,
        remember_upgrade: flag("rememberUpgrade")?,
        try_all: flag("tryAll")?,
        credentials: flag("credentials")?,
        headers: serde_json::from_value(c.get("headers")?.clone()).ok()?,
        timestamp: serde_json::from_value(c.get("timestamp")?.clone()).ok()?,
        close_on_unload: flag("closeOnUnload")?,
        ..SocketIoSettings::default()
    };
    let opts = Options {
        reconnection: flag("reconnection")?,
        reconnection_attempts: u32::try_from(num("reconnectionAttempts")?).ok()?,
        backoff: crate::session::backoff::BackoffConfig {
            initial: num("delay")?,
            max: num("delayMax")?,
            randomization: c.get("randomization")?.as_f64()?,
        },
        connect_timeout: Duration::from_millis(num("connectTimeout")?),
        max_buffer: usize::try_from(num("maxBuffer")?).ok()?,
        ack_timeout: None,
        query: serde_json::from_value(c.get("query")?.clone()).ok()?,
        own,
    };
    let (engine_url, config, transports) = link_parts(c.get("url")?.as_str()?, &opts).ok()?;
    Some(own_link(engine_url, config, transports, sink))
}

fn encode_query(pairs: &[(String, String)]) -> String {
    fn enc(out: &mut String, s: &str) {
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                out.push(b as char);
            } else {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        enc(&mut out, k);
        out.push('=');
        enc(&mut out, v);
    }
    out
}

fn to_bytes(v: &JsValue) -> Vec<u8> {
    js_sys::Uint8Array::new(v).to_vec()
}

/// Received attachments as bytes.
fn received(attachments: &Option<js_sys::Array>) -> Vec<Vec<u8>> {
    attachments
        .as_ref()
        .map(|a| a.iter().map(|v| to_bytes(&v)).collect())
        .unwrap_or_default()
}

/// Attachments to send, as `Uint8Array`s (`None` when there are none).
pub(super) fn to_send(bins: &[Vec<u8>]) -> Option<js_sys::Array> {
    if bins.is_empty() {
        return None;
    }
    Some(
        bins.iter()
            .map(|b| JsValue::from(js_sys::Uint8Array::from(b.as_slice())))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Manager

struct ManagerInner {
    link: Conn,
    opts: Options,
    /// How many tabs share the connection (0 when it is not shared).
    tabs: Cell<u32>,
    sockets: RefCell<Vec<Weak<SocketInner>>>,
    listeners: Registry<ManagerListener>,
}

type ManagerListener = Box<dyn FnMut(&ManagerEvent)>;

/// One Engine.IO connection; any number of namespaces ([`Socket`]s) share it.
///
/// ```no_run
/// use rtio::{Manager, Options};
/// let manager = Manager::new("http://127.0.0.1:3000", Options::default()).unwrap();
/// let root = manager.socket("/");
/// let admin = manager.socket("/admin"); // same WebSocket
/// ```
#[derive(Clone)]
pub struct Manager {
    inner: Rc<ManagerInner>,
}

impl Manager {
    /// A connection to the server at `url` (`http(s)://` or `ws(s)://`; a path in the URL is
    /// ignored here, use [`socket`](Self::socket) for namespaces). Connects when the first
    /// socket does.
    pub fn new(url: &str, opts: Options) -> Result<Manager, ConnectError> {
        let (engine_url, config, transports) = link_parts(url, &opts)?;
        let shared = opts.own.shared.clone();
        let inner = Rc::new_cyclic(|weak: &Weak<ManagerInner>| {
            let sink = {
                let weak = weak.clone();
                move |ev| dispatch(&weak, ev)
            };
            let remote = shared.and_then(|name| {
                let weak = weak.clone();
                Remote::new(
                    format!("{name} {engine_url}"),
                    shared_config(url, &opts),
                    shared_link,
                    sink.clone(),
                    move |n| {
                        if let Some(m) = weak.upgrade() {
                            m.tabs.set(n);
                            m.notify(&ManagerEvent::Tabs(n));
                        }
                    },
                )
            });
            ManagerInner {
                link: match remote {
                    Some(remote) => Conn::Shared(remote),
                    None => Conn::Own(own_link(engine_url, config, transports, Box::new(sink))),
                },
                opts,
                tabs: Cell::new(0),
                sockets: RefCell::new(Vec::new()),
                listeners: Registry::default(),
            }
        });
        Ok(Manager { inner })
    }

    /// How many tabs use this manager's shared connection ([`Options::shared`]), as the host
    /// last said: `None` when the connection is not shared.
    pub fn tabs(&self) -> Option<u32> {
        matches!(self.inner.link, Conn::Shared(_)).then(|| self.inner.tabs.get())
    }

    /// The transport in use, if the connection is up or being made.
    pub fn transport(&self) -> Option<Transport> {
        match self.inner.link.transport_name() {
            "polling" => Some(Transport::Polling),
            "websocket" => Some(Transport::WebSocket),
            _ => None,
        }
    }

    /// The socket of namespace `nsp` on this connection, connecting it with the manager's
    /// auth. Asking twice for the same namespace gives the same socket.
    pub fn socket(&self, nsp: &str) -> Socket {
        let auth = self.inner.opts.own.auth.clone();
        self.socket_with_auth(nsp, auth)
    }

    fn socket_with_auth(&self, nsp: &str, auth: Option<String>) -> Socket {
        let nsp = if nsp.starts_with('/') {
            nsp.to_string()
        } else {
            format!("/{nsp}")
        };
        let existing = self
            .inner
            .sockets
            .borrow()
            .iter()
            .filter_map(Weak::upgrade)
            .find(|s| *s.nsp == *nsp);
        if let Some(inner) = existing {
            return Socket { inner };
        }
        let inner = Rc::new(SocketInner {
            manager: self.clone(),
            nsp: Rc::from(nsp.as_str()),
            auth: RefCell::new(auth),
            auth_fn: self.inner.opts.own.auth_fn.clone(),
            recovered: Cell::new(false),
            listeners: Emitter::default(),
            acks: RefCell::new(Vec::new()),
            id: RefCell::new(None),
            rooms: RefCell::new(Vec::new()),
        });
        {
            let mut sockets = self.inner.sockets.borrow_mut();
            sockets.retain(|w| w.strong_count() > 0);
            sockets.push(Rc::downgrade(&inner));
        }
        let socket = Socket { inner };
        socket.open();
        socket
    }

    /// Closes the connection: every socket on it disconnects (`io client disconnect`).
    pub fn close(&self) {
        self.inner.link.close();
    }

    /// Calls `f` with every [`ManagerEvent`] until the returned handle is dropped.
    pub fn on_event(&self, f: impl FnMut(&ManagerEvent) + 'static) -> ManagerSubscription {
        let id = self.inner.listeners.add(false, None, Box::new(f));
        let owner: Weak<dyn Listeners> = Rc::downgrade(&self.inner) as Weak<ManagerInner>;
        Subscription::new(owner, id)
    }
}

/// A [`Manager::on_event`] listener; dropping it removes the listener.
pub type ManagerSubscription = Subscription;

impl Listeners for ManagerInner {
    fn remove(&self, id: u64) {
        self.listeners.remove(id);
    }
}

/// The manager event a session event reports, if it is one.
fn manager_event(ev: &Event) -> Option<ManagerEvent> {
    let n = ev.id.map_or(0, |n| n as u32);
    Some(match ev.kind {
        EventKind::EngineOpen => ManagerEvent::Open,
        EventKind::EngineClose => {
            ManagerEvent::Close(ev.reason.unwrap_or(DisconnectReason::TransportClose))
        }
        EventKind::ReconnectAttempt => ManagerEvent::ReconnectAttempt(n),
        EventKind::Reconnect => ManagerEvent::Reconnect(n),
        EventKind::ReconnectError => ManagerEvent::ReconnectError(ev.text.clone()),
        EventKind::ReconnectFailed => ManagerEvent::ReconnectFailed,
        EventKind::Upgrade => ManagerEvent::Upgrade,
        _ => return None,
    })
}

impl ManagerInner {
    /// Calls the [`Manager::on_event`] listeners with `me`.
    fn notify(&self, me: &ManagerEvent) {
        self.listeners.call(|_, f| {
            f(me);
            true
        });
    }
}

fn dispatch(manager: &Weak<ManagerInner>, ev: Event) {
    let Some(m) = manager.upgrade() else { return };
    if !matches!(ev.kind, EventKind::Event | EventKind::Ack) {
        let whose = if ev.nsp.is_empty() { "engine" } else { &ev.nsp };
        super::debug::state(whose, &ev.kind, &ev.text);
    }
    if let Some(me) = manager_event(&ev) {
        return m.notify(&me);
    }
    let nsp = &*ev.nsp;
    let socket = m
        .sockets
        .borrow()
        .iter()
        .filter_map(Weak::upgrade)
        .find(|s| *s.nsp == *nsp);
    if let Some(s) = socket {
        s.handle(ev);
    }
}

// ---------------------------------------------------------------------------------------------
// Socket

type ConnectSlot = Reply<Result<(), ConnectError>>;

/// A socket's own kinds of listener.
enum Lifecycle {
    Connect(Box<dyn FnMut()>),
    Disconnect(Box<dyn FnMut(DisconnectReason)>),
    ConnectError(Box<dyn FnMut(&ConnectError)>),
}

/// A socket's listeners: an event listener also gets the ack sender of the event, if the server
/// asked for an ack.
type SocketHandler = Handler<Option<AckSender>, Lifecycle>;

pub(super) struct SocketInner {
    manager: Manager,
    nsp: Rc<str>,
    auth: RefCell<Option<String>>,
    auth_fn: Option<AuthFn>,
    /// Whether the last connect recovered the session (connection-state recovery).
    recovered: Cell<bool>,
    listeners: Emitter<Option<AckSender>, Lifecycle>,
    acks: RefCell<Vec<(u64, AckReply<AckError>)>>,
    id: RefCell<Option<String>>,
    /// The rooms held on this socket (see [`Socket::room`]).
    pub(super) rooms: RefCell<Vec<Weak<RoomState>>>,
}

/// A Socket.IO socket: one namespace on a [`Manager`]'s connection. Cheap to clone; every
/// clone is the same socket.
///
/// The connection stays open while any handle lives. A listener that must reach its own
/// socket should capture a [`WeakSocket`] (see [`downgrade`](Socket::downgrade)): a strong
/// handle captured by a listener keeps the socket alive forever.
///
/// ```no_run
/// use rtio::{Options, Socket};
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let socket = Socket::connect("http://127.0.0.1:3000", Options::default())?;
/// let _sub = socket.on("chat", |msg: String| web_sys::console::log_1(&msg.into()));
/// socket.emit("chat", &"hi")?;
/// let reply: String = socket
///     .emit_with_ack("echo", &"ping")
///     .timeout(std::time::Duration::from_secs(2))
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Socket {
    inner: Rc<SocketInner>,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("nsp", &&*self.inner.nsp)
            .field("id", &self.id())
            .finish()
    }
}

/// Handles are equal when they are handles of the same socket (one namespace of one
/// connection), so a socket can be a hook dependency or a component property.
impl PartialEq for Socket {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Socket {}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager").finish_non_exhaustive()
    }
}

/// A handle that does not keep its socket alive; see [`Socket::downgrade`].
#[derive(Clone)]
pub struct WeakSocket {
    inner: Weak<SocketInner>,
}

impl WeakSocket {
    /// The socket, if some [`Socket`] handle still holds it.
    pub fn upgrade(&self) -> Option<Socket> {
        self.inner.upgrade().map(|inner| Socket { inner })
    }
}

impl Socket {
    /// A handle for listeners that reply on their own socket without keeping it alive.
    ///
    /// ```no_run
    /// # fn demo(socket: rtio::Socket) {
    /// let weak = socket.downgrade();
    /// let sub = socket.on("ping", move |n: u32| {
    ///     if let Some(s) = weak.upgrade() {
    ///         let _ = s.emit("pong", &n);
    ///     }
    /// });
    /// # sub.keep(); }
    /// ```
    pub fn downgrade(&self) -> WeakSocket {
        WeakSocket {
            inner: Rc::downgrade(&self.inner),
        }
    }

    /// Connects to `url`, whose path names the namespace (`http://host/admin` → `/admin`),
    /// on a new connection. Returns at once; the connection proceeds in the background (see
    /// [`on_connect`](Self::on_connect), [`connected`](Self::connected),
    /// [`wait_connected`](Self::wait_connected)).
    pub fn connect(url: &str, opts: Options) -> Result<Socket, ConnectError> {
        let target = url::parse(url).ok_or_else(|| ConnectError::InvalidUrl(url.into()))?;
        let manager = Manager::new(url, opts)?;
        Ok(manager.socket(&target.nsp))
    }

    /// Another namespace on the same connection, with the same auth.
    pub fn namespace(&self, nsp: &str) -> Socket {
        let auth = self.inner.auth.borrow().clone();
        self.inner.manager.socket_with_auth(nsp, auth)
    }

    /// The connection this socket runs on.
    pub fn manager(&self) -> &Manager {
        &self.inner.manager
    }

    /// The namespace, e.g. `/`.
    pub fn nsp(&self) -> &str {
        &self.inner.nsp
    }

    /// Whether the namespace is connected.
    pub fn connected(&self) -> bool {
        self.inner.id.borrow().is_some()
    }

    /// The socket id the server gave, while connected.
    pub fn id(&self) -> Option<String> {
        self.inner.id.borrow().clone()
    }

    /// Whether the last connect recovered the previous session (connection-state recovery,
    /// with a server that enables it): the same id and rooms, and the events missed meanwhile
    /// delivered right after [`on_connect`](Self::on_connect).
    pub fn recovered(&self) -> bool {
        self.inner.recovered.get()
    }

    /// (Re)connects the namespace after a [`disconnect`](Self::disconnect) or a refusal
    /// (socket.io-client's `socket.connect()` / `socket.open()`).
    pub fn open(&self) {
        let inner = &self.inner;
        let link = &inner.manager.inner.link;
        // An auth function makes the payload at each connect.
        if inner.auth_fn.is_some() {
            link.connect_asking_auth(&inner.nsp);
        } else {
            let auth = inner.auth.borrow().clone();
            link.connect(&inner.nsp, auth);
        }
    }

    /// Disconnects the namespace (`io client disconnect`); the connection closes when no
    /// namespace uses it any more.
    pub fn disconnect(&self) {
        self.inner.manager.inner.link.disconnect(&self.inner.nsp);
    }

    /// Resolves when the namespace is connected, or fails with the next connect error.
    pub fn wait_connected(&self) -> ConnectFuture {
        let state = ConnectSlot::default();
        let mut subs = Vec::new();
        if self.connected() {
            state.complete(Ok(()));
        } else {
            // The first of the two settles it.
            let s = state.clone();
            subs.push(self.add(
                true,
                None,
                Handler::Own(Lifecycle::Connect(Box::new(move || {
                    s.complete(Ok(()));
                }))),
            ));
            let s = state.clone();
            subs.push(self.add(
                true,
                None,
                Handler::Own(Lifecycle::ConnectError(Box::new(move |e| {
                    s.complete(Err(e.clone()));
                }))),
            ));
        }
        ConnectFuture { state, _subs: subs }
    }

    fn add(&self, once: bool, event: Option<&str>, handler: SocketHandler) -> Subscription {
        let owner: Weak<dyn Listeners> = Rc::downgrade(&self.inner) as Weak<SocketInner>;
        self.inner.listeners.add(owner, once, event, handler)
    }

    fn event_handler<T, F>(event: &str, mut f: F) -> SocketHandler
    where
        T: DeserializeOwned,
        F: FnMut(T, Option<AckSender>) + 'static,
    {
        typed("", event, move |v, ack: &Option<AckSender>| {
            f(v, ack.clone())
        })
    }

    /// Calls `f` with each `event`'s payload, deserialized as `T` (no argument reads as
    /// `null`, one as itself, several as a tuple). The listener lives until the returned
    /// [`Subscription`] is dropped. A payload that does not deserialize is skipped with a
    /// console warning.
    pub fn on<T, F>(&self, event: &str, mut f: F) -> Subscription
    where
        T: DeserializeOwned + 'static,
        F: FnMut(T) + 'static,
    {
        self.add(
            false,
            Some(event),
            Self::event_handler(event, move |v, _| f(v)),
        )
    }

    /// Like [`on`](Self::on), for events the server sends with an ack callback: `f` also
    /// receives the [`AckSender`] (`None` when the server asked for no ack).
    pub fn on_with_ack<T, F>(&self, event: &str, f: F) -> Subscription
    where
        T: DeserializeOwned + 'static,
        F: FnMut(T, Option<AckSender>) + 'static,
    {
        self.add(false, Some(event), Self::event_handler(event, f))
    }

    /// Like [`on`](Self::on), but only for the next `event`.
    pub fn once<T, F>(&self, event: &str, f: F) -> Subscription
    where
        T: DeserializeOwned + 'static,
        F: FnOnce(T) + 'static,
    {
        let mut f = Some(f);
        self.add(
            true,
            Some(event),
            Self::event_handler(event, move |v, _| {
                if let Some(f) = f.take() {
                    f(v)
                }
            }),
        )
    }

    /// Calls `f` with the name and raw JSON arguments of every event.
    pub fn on_any(&self, mut f: impl FnMut(&str, Vec<Value>) + 'static) -> Subscription {
        self.add(
            false,
            None,
            Handler::Any(Box::new(move |name, args| f(name, args.to_vec()))),
        )
    }

    /// Calls `f` each time the namespace connects.
    pub fn on_connect(&self, f: impl FnMut() + 'static) -> Subscription {
        self.add(false, None, Handler::Own(Lifecycle::Connect(Box::new(f))))
    }

    /// Calls `f` each time the namespace disconnects, with the reason.
    pub fn on_disconnect(&self, f: impl FnMut(DisconnectReason) + 'static) -> Subscription {
        self.add(
            false,
            None,
            Handler::Own(Lifecycle::Disconnect(Box::new(f))),
        )
    }

    /// Calls `f` when a connection attempt fails.
    pub fn on_connect_error(&self, f: impl FnMut(&ConnectError) + 'static) -> Subscription {
        self.add(
            false,
            None,
            Handler::Own(Lifecycle::ConnectError(Box::new(f))),
        )
    }

    /// How many listeners are registered on this socket now (event, catch-all and state
    /// listeners, not those of its rooms): one per live [`Subscription`], so a UI can check
    /// that its components release theirs.
    pub fn listener_count(&self) -> usize {
        self.inner.listeners.registry().len()
    }

    /// Removes every listener of `event` (including ones whose [`Subscription`] is still held).
    pub fn off(&self, event: &str) {
        self.inner.listeners.registry().remove_key(event);
    }

    /// A stream of `event`'s payloads, deserialized as `T` (payloads that do not deserialize
    /// are skipped with a console warning). Dropping the stream removes its listener. Items
    /// queue up while nobody polls.
    pub fn events<T: DeserializeOwned + 'static>(&self, event: &str) -> EventStream<T> {
        let (tx, items) = mpsc::unbounded();
        let sub = self.on(event, move |v: T| {
            // (The stream may be gone: then the item has nowhere to go.)
            let _ = tx.unbounded_send(v);
        });
        EventStream { items, _sub: sub }
    }

    fn check_name(event: &str) -> Result<(), EmitError> {
        if RESERVED.contains(&event) {
            Err(EmitError::Reserved(event.into()))
        } else {
            Ok(())
        }
    }

    fn send(
        &self,
        event: &str,
        args: &[&dyn Arg],
        ack: Option<Option<u64>>,
    ) -> Result<Option<u64>, EmitError> {
        Self::check_name(event)?;
        // With retries every emit asks for an ack, which the retry queue needs, as
        // socket.io-client sends an id whenever retries are on; an answer nobody awaits is
        // dropped.
        let opts = &self.inner.manager.inner.opts;
        let ack = ack.or_else(|| (opts.own.retries > 0).then(|| opts.ack_timeout.map(ms)));
        let mut all: Vec<&dyn Arg> = Vec::with_capacity(args.len() + 1);
        all.push(&event);
        all.extend_from_slice(args);
        let (data, bins) = payload::encode(&all).map_err(EmitError::Encode)?;
        let bins = to_send(&bins);
        self.inner
            .manager
            .inner
            .link
            .emit(&self.inner.nsp, data, bins, ack)
            .map_err(|_| EmitError::BufferFull)
    }

    /// Emits `event` with one argument. While disconnected, the packet is buffered and sent
    /// on connect.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, payload: &T) -> Result<(), EmitError> {
        self.send(event, &[&payload], None).map(|_| ())
    }

    /// Emits `event` with any number of arguments (each its own Socket.IO argument).
    pub fn emit_args(&self, event: &str, args: &[Value]) -> Result<(), EmitError> {
        let refs: Vec<&dyn Arg> = args.iter().map(|a| a as &dyn Arg).collect();
        self.send(event, &refs, None).map(|_| ())
    }

    /// Emits `event` with any number of arguments of any serializable types, each its own
    /// Socket.IO argument; [`Binary`](crate::Binary) anywhere in them travels as an
    /// attachment: `socket.emit_many("upload", &[&"a.png", &Binary(bytes)])`.
    pub fn emit_many(&self, event: &str, args: &[&dyn Arg]) -> Result<(), EmitError> {
        self.send(event, args, None).map(|_| ())
    }

    /// Emits `event` with one argument only if the namespace is connected now (socket.io's
    /// `volatile`): nothing is buffered. Returns whether it was sent.
    pub fn emit_volatile<T: Serialize + ?Sized>(
        &self,
        event: &str,
        payload: &T,
    ) -> Result<bool, EmitError> {
        Self::check_name(event)?;
        let (data, bins) = payload::encode(&[&event, &payload]).map_err(EmitError::Encode)?;
        Ok(self
            .link()
            .emit_volatile(&self.inner.nsp, data, to_send(&bins)))
    }

    pub(super) fn link(&self) -> &Conn {
        &self.inner.manager.inner.link
    }

    pub(super) fn inner(&self) -> &Rc<SocketInner> {
        &self.inner
    }

    /// The largest number of packets held while disconnected ([`Options::max_buffer`]).
    pub(super) fn max_buffer(&self) -> usize {
        self.inner.manager.inner.opts.max_buffer
    }

    /// Emits `event` with one argument and waits for the server's acknowledgement,
    /// deserialized as `R` (one reply argument as itself, several as a tuple). The packet is
    /// sent at once; the timeout is the socket's `ack_timeout` unless set with
    /// [`AckFuture::timeout`]. Dropping the future stops waiting.
    pub fn emit_with_ack<R: DeserializeOwned, T: Serialize + ?Sized>(
        &self,
        event: &str,
        payload: &T,
    ) -> AckFuture<R> {
        self.emit_many_with_ack(event, &[&payload])
    }

    /// Like [`emit_with_ack`](Self::emit_with_ack), with any number of arguments (see
    /// [`emit_many`](Self::emit_many)).
    pub fn emit_many_with_ack<R: DeserializeOwned>(
        &self,
        event: &str,
        args: &[&dyn Arg],
    ) -> AckFuture<R> {
        let timeout = self.inner.manager.inner.opts.ack_timeout.map(ms);
        let reply = AckReply::default();
        let id = match self.send(event, args, Some(timeout)) {
            Ok(Some(id)) => {
                self.inner.acks.borrow_mut().push((id, reply.clone()));
                Some(id)
            }
            Ok(None) => None,
            Err(e) => {
                reply.complete(Err(AckError::Emit(e)));
                None
            }
        };
        let owner: Weak<dyn AckOwner> = Rc::downgrade(&self.inner) as Weak<SocketInner>;
        AckFuture::new(reply, id.map(|id| (owner, id)))
    }
}

typed_events!(impl [] Socket, EmitError, AckError);

impl SocketInner {
    fn handle(self: &Rc<Self>, ev: Event) {
        let SessionEvent {
            kind,
            text,
            data,
            id,
            attachments,
            reason,
            failure,
            recovered,
            offset,
            ..
        } = ev;
        match kind {
            EventKind::Connect => {
                self.recovered.set(recovered);
                *self.id.borrow_mut() = Some(text);
                // Rooms are joined again before the listeners run, unless the server kept them.
                for room in self.live_rooms() {
                    room.connected(recovered);
                }
                self.listeners.own(|h| match h {
                    Lifecycle::Connect(f) => {
                        f();
                        true
                    }
                    _ => false,
                });
            }
            EventKind::Disconnect => {
                let reason = reason.unwrap_or(DisconnectReason::TransportClose);
                *self.id.borrow_mut() = None;
                for room in self.live_rooms() {
                    room.disconnected();
                }
                self.listeners.own(|h| match h {
                    Lifecycle::Disconnect(f) => {
                        f(reason);
                        true
                    }
                    _ => false,
                });
            }
            EventKind::ConnectError => {
                *self.id.borrow_mut() = None;
                let err = match data {
                    // The connection failed before the namespace connected.
                    None => ConnectError::Transport(text),
                    Some(data) => match serde_json::from_str::<Value>(&data) {
                        Ok(v) => ConnectError::Refused {
                            message: v
                                .get("message")
                                .and_then(Value::as_str)
                                .or(v.as_str())
                                .unwrap_or("connection refused")
                                .to_string(),
                            data: v.get("data").cloned(),
                        },
                        Err(_) => ConnectError::Refused {
                            message: data,
                            data: None,
                        },
                    },
                };
                self.listeners.own(|h| match h {
                    Lifecycle::ConnectError(f) => {
                        f(&err);
                        true
                    }
                    _ => false,
                });
            }
            EventKind::Event => {
                let data = data.unwrap_or_default();
                let bins = received(&attachments);
                let mut values = match payload::decode(&data, &bins) {
                    Ok(v) => v,
                    Err(e) => return self.malformed(&format!("unreadable event: {e}")),
                };
                let name = match values.first() {
                    // As socket.io-client's parser: a server cannot fake a lifecycle event.
                    Some(Value::String(s)) if RESERVED.contains(&s.as_str()) => {
                        return self.malformed(&format!("reserved event name \"{s}\""));
                    }
                    Some(Value::String(s)) => s.clone(),
                    _ => return self.malformed("event without a name"),
                };
                let mut args = values.split_off(1);
                // The recovery offset the server appended is the session's, not the listeners'.
                if offset {
                    args.pop();
                }
                // The rooms convention's own events go to their room, not to listeners.
                if id.is_none() && (name == "rtio:room" || name == "rtio:presence") {
                    let room = args.first().and_then(Value::as_str);
                    let room = self
                        .live_rooms()
                        .into_iter()
                        .find(|r| Some(r.name()) == room);
                    if let Some(room) = room {
                        room.incoming(&name, args);
                    }
                    return;
                }
                let ack = id.map(|id| {
                    let owner: Weak<dyn Answer<EmitError>> =
                        Rc::downgrade(self) as Weak<SocketInner>;
                    AckSender::new(owner, id, 0)
                });
                self.listeners.event(&name, &args, &ack);
            }
            EventKind::Ack => {
                let data = data.unwrap_or_default();
                let bins = received(&attachments);
                let r = payload::decode(&data, &bins).map_err(AckError::Decode);
                if let Some(id) = id {
                    self.complete_ack(id, r);
                }
            }
            EventKind::AckFailed => {
                let e = match failure {
                    Some(AckFailure::Timeout) => AckError::Timeout,
                    _ => AckError::Disconnected,
                };
                if let Some(id) = id {
                    self.complete_ack(id, Err(e));
                }
            }
            EventKind::AuthRequest => self.give_auth(),
            // Manager events are dispatched before reaching a socket.
            _ => {}
        }
    }

    /// Reports a malformed packet that was dropped: on the console and as
    /// [`ManagerEvent::Error`].
    fn malformed(&self, what: &str) {
        let message = format!(
            "rtio: dropped a malformed packet on namespace {}: {what}",
            self.nsp
        );
        warn(&message);
        self.manager.inner.notify(&ManagerEvent::Error(message));
    }

    /// The rooms held on this socket that still have a handle.
    pub(super) fn live_rooms(&self) -> Vec<Rc<RoomState>> {
        let mut rooms = self.rooms.borrow_mut();
        rooms.retain(|w| w.strong_count() > 0);
        rooms.iter().filter_map(Weak::upgrade).collect()
    }

    /// The socket id, while connected.
    pub(super) fn sid(&self) -> Option<String> {
        self.id.borrow().clone()
    }

    /// Answers the session's request for the CONNECT payload: from the auth function, or the
    /// fixed auth.
    fn give_auth(self: &Rc<Self>) {
        match &self.auth_fn {
            Some(f) => {
                let fut = (f.0)();
                let socket = Rc::downgrade(self);
                crate::shell::spawn(async move {
                    let auth = fut.await;
                    if let Some(s) = socket.upgrade() {
                        s.manager.inner.link.provide_auth(&s.nsp, auth);
                    }
                });
            }
            None => {
                let auth = self.auth.borrow().clone();
                self.manager.inner.link.provide_auth(&self.nsp, auth);
            }
        }
    }

    fn complete_ack(&self, id: u64, r: Result<Vec<Value>, AckError>) {
        let slot = {
            let mut acks = self.acks.borrow_mut();
            let at = acks.iter().position(|(i, _)| *i == id);
            at.map(|at| acks.remove(at).1)
        };
        if let Some(slot) = slot {
            slot.complete(r);
        }
    }
}

impl Drop for SocketInner {
    fn drop(&mut self) {
        // The last handle of this namespace is gone: leave it, so the server forgets it too.
        self.manager.inner.link.disconnect(&self.nsp);
    }
}

// ---------------------------------------------------------------------------------------------
// Handles

impl Listeners for SocketInner {
    fn remove(&self, id: u64) {
        self.listeners.registry().remove(id);
    }
}

impl Answer<EmitError> for SocketInner {
    fn answer(self: Rc<Self>, id: u64, _: u64, args: &[&dyn Arg]) -> Result<(), EmitError> {
        let (data, bins) = payload::encode(args).map_err(EmitError::Encode)?;
        let bins = to_send(&bins);
        self.manager.inner.link.ack(&self.nsp, id, data, bins);
        Ok(())
    }
}

impl AckOwner for SocketInner {
    /// The session times acks out (its timer also runs the retries).
    fn time_out(&self, id: u64, timeout: Duration) -> bool {
        self.manager
            .inner
            .link
            .set_ack_timeout(id, Some(ms(timeout)));
        true
    }

    fn forget(&self, id: u64) {
        let waiting = {
            let mut acks = self.acks.borrow_mut();
            let before = acks.len();
            acks.retain(|(i, _)| *i != id);
            acks.len() != before
        };
        if waiting {
            self.manager.inner.link.cancel_ack(&self.nsp, id);
        }
    }
}

/// Resolves when a socket connects; see [`Socket::wait_connected`].
#[must_use = "futures do nothing unless awaited"]
pub struct ConnectFuture {
    state: ConnectSlot,
    _subs: Vec<Subscription>,
}

impl Future for ConnectFuture {
    type Output = Result<(), ConnectError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.state.poll(cx) {
            Poll::Ready(Some(r)) => Poll::Ready(r),
            // Polled again after it completed.
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    }
}

/// The payloads of one event as a [`Stream`] (a `futures` unbounded channel fed by a
/// listener); see [`Socket::events`].
pub struct EventStream<T> {
    items: mpsc::UnboundedReceiver<T>,
    _sub: Subscription,
}

impl<T> Stream for EventStream<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        Pin::new(&mut self.items).poll_next(cx)
    }
}

impl<T> Unpin for EventStream<T> {}

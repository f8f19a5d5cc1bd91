//! The bridge: SSE and plain-WebSocket clients in the same rooms as the Socket.IO clients.
//!
//! `MODES.md` ("Rooms and presence over SSE and WebSocket") gives SSE ([`crate::sse`]) and
//! plain-WebSocket ([`crate::plainws`]) clients the rooms and presence of `ROOMS.md`. A bridged
//! client names its rooms and its `meta` when it connects (the query parameters `room`, repeated,
//! and `meta`, its JSON) and is a member of them until its stream or connection ends. This module
//! keeps the bridged clients and their rooms (the [`Bridge`]) and joins them to the Socket.IO side:
//!
//! | from        | what                          | reaches                                                     |
//! |-------------|-------------------------------|-------------------------------------------------------------|
//! | bridged     | connect                       | `{joined: member}` to the room's other members, everywhere  |
//! | bridged     | stream/connection end         | `{left: id}` to the room's other members, everywhere        |
//! | bridged     | a message to a room           | `rtio:room` (room, event, id, ...args) to the others        |
//! | Socket.IO   | `rtio:join` / leave / disconnect | `rtio:presence` to the bridged members too               |
//! | Socket.IO   | `rtio:to`                     | `rtio:room` to the bridged members too (JSON args only)     |
//!
//! and a Socket.IO `rtio:join` acknowledgement lists the bridged members of the room, a bridged
//! client's `rtio:members` the Socket.IO members (read from the adapter's rooms, as
//! [`crate::rooms`] does). The Socket.IO side calls in through [`rooms::BridgeHooks`], set once
//! at startup ([`install`]); this side reaches Socket.IO through [`SocketIoRooms`].
//!
//! Every event for the bridged clients goes into the SSE event log first ([`EventLog`]: ids,
//! resume), under the same lock as its delivery, so every stream gets events in id order.
//!
//! A bridged client's id is `sse-<boot>.<n>` or `ws-<boot>.<n>` (`<boot>` a random word per
//! server start, `<n>` a counter): the `.` keeps it from ever having the form of a Socket.IO id
//! (16 characters of `A-Z a-z 0-9 _ -`), and `<boot>` from meeting an id of an earlier run in a
//! log read back with `--sse-log`.
//!
//! Validation is `ROOMS.md`'s: room names ([`rooms::validate_room`]), at most [`MAX_ROOMS`]
//! rooms, `meta` of at most [`rooms::MAX_META_BYTES`] bytes, no room that is the id of a
//! connected socket, and the demo's rule that `locked:` rooms are refused.
//!
//! Bounds: at most [`MAX_CLIENTS`] bridged clients; each has a queue of [`QUEUE`] events, and a
//! client whose queue is full (it does not read, or a stall holds it) is cut.
//!
//! # With `--redis`
//!
//! The bridge lives in the process. A bridged client's `rtio:members` lists the Socket.IO members
//! of every instance (the adapter's rooms), and its presence and messages are broadcast through
//! the adapter, so they reach Socket.IO members on every instance; but a Socket.IO `rtio:join`
//! lists the bridged members of its own instance only, and the events of Socket.IO clients on
//! other instances do not reach bridged clients.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::hash::BuildHasher;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::http::StatusCode;
use serde::ser::{SerializeTuple, Serializer};
use serde::Serialize;
use serde_json::{json, Value};
use socketioxide::adapter::Adapter;
use socketioxide::socket::Sid;
use socketioxide::SocketIo;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::eventlog::{EventLog, LogEntry};
use crate::rooms::{self, JoinError, Member, Presence, RelayError, TokenBucket};

/// Most rooms one bridged client may name.
pub const MAX_ROOMS: usize = 16;
/// Most bridged clients (SSE and WebSocket together).
pub const MAX_CLIENTS: usize = 1000;
/// Events queued for one client before it is cut as too slow.
pub const QUEUE: usize = 1024;

/// The `error` of a refused connect when there are [`MAX_CLIENTS`] already.
pub const TOO_MANY_CLIENTS: &str = "too many clients";

/// What a bridged client asked for in its query string.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectQuery {
    /// Its rooms, without repeats, in the order given.
    pub rooms: Vec<String>,
    /// Its `meta` (`null` when none).
    pub meta: Value,
    /// The `lastEventId` parameter, when it is a non-negative integer.
    pub last_event_id: Option<u64>,
}

/// Reads `room` (repeated), `meta` (JSON) and `lastEventId` from a query string; other
/// parameters are ignored. The error is the text for the client: `invalid room`,
/// `too many rooms`, `invalid meta`, `meta too large`.
pub fn parse_connect_query(query: &str) -> Result<ConnectQuery, String> {
    let mut rooms = Vec::new();
    let mut meta = None;
    let mut last_event_id = None;
    let mut too_many = false;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "room" => {
                rooms::validate_room(&value).map_err(|e| e.to_string())?;
                if !rooms.iter().any(|r| *r == value) {
                    if rooms.len() == MAX_ROOMS {
                        too_many = true;
                    } else {
                        rooms.push(value.into_owned());
                    }
                }
            }
            "meta" if meta.is_none() => meta = Some(value.into_owned()),
            "lastEventId" if last_event_id.is_none() => last_event_id = parse_event_id(&value),
            _ => {}
        }
    }
    if too_many {
        return Err("too many rooms".to_owned());
    }
    let meta = match meta {
        None => Value::Null,
        Some(text) => {
            let value: Value =
                serde_json::from_str(&text).map_err(|_| JoinError::InvalidMeta.to_string())?;
            if value.to_string().len() > rooms::MAX_META_BYTES {
                return Err(JoinError::MetaTooLarge.to_string());
            }
            value
        }
    };
    Ok(ConnectQuery {
        rooms,
        meta,
        last_event_id,
    })
}

/// An event id as a client sends it: a non-negative integer in decimal.
pub fn parse_event_id(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Where a stream resumes: the `Last-Event-ID` header when it is valid, else the query's.
pub fn resume_from(header: Option<&str>, query: Option<u64>) -> Option<u64> {
    header.and_then(parse_event_id).or(query)
}

/// Which endpoint a bridged client came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `GET /sse`.
    Sse,
    /// `GET /ws`.
    Ws,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Sse => "sse",
            Kind::Ws => "ws",
        }
    }
}

/// How a client's stream or connection is to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Cleanly (the server shuts down).
    End,
    /// At once, no clean end (`drop` controls, a client too slow).
    Abrupt,
}

/// The controls of one client's writer.
#[derive(Debug, Clone, Default)]
pub struct Ctl {
    /// Write nothing until then.
    pub stalled_until: Option<Instant>,
    /// End now.
    pub cut: Option<Cut>,
}

/// What the bridge queues for a client.
#[derive(Debug, Clone)]
pub enum Out {
    /// A logged event, for an SSE stream.
    Sse(Arc<LogEntry>),
    /// A text frame, for a WebSocket.
    Ws(Arc<str>),
}

/// A refused connect.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    /// The HTTP status (`400`, `503`).
    pub status: StatusCode,
    /// The `error` text.
    pub message: String,
}

impl ConnectError {
    fn new(status: StatusCode, message: impl Into<String>) -> ConnectError {
        ConnectError {
            status,
            message: message.into(),
        }
    }
}

/// A connected bridged client, for its endpoint to serve.
pub struct Connection {
    /// Its id.
    pub id: String,
    /// Its queue.
    pub rx: mpsc::Receiver<Out>,
    /// Its controls.
    pub ctl: watch::Receiver<Ctl>,
    /// The logged events to send before the live ones (SSE with a last event id).
    pub replay: Vec<Arc<LogEntry>>,
    /// Each room with its members, this client included.
    pub members: Vec<(String, Vec<Member>)>,
    /// Ends the membership (and announces it) when dropped.
    pub guard: LeaveGuard,
}

/// One line of `GET /sse/control/clients`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfo {
    /// Its id.
    pub id: String,
    /// Its rooms.
    pub rooms: Vec<String>,
    /// The id it resumed from (`null`: none).
    pub last_event_id: Option<u64>,
}

struct Client {
    kind: Kind,
    rooms: Vec<String>,
    /// Its messages to rooms, limited as a socket's `rtio:to` ([`rooms::Limits`]).
    relays: TokenBucket,
    tx: mpsc::Sender<Out>,
    ctl: watch::Sender<Ctl>,
    last_event_id: Option<u64>,
}

impl Client {
    fn cut(&self, how: Cut) {
        self.ctl.send_modify(|ctl| {
            ctl.cut.get_or_insert(how);
        });
    }
}

struct State {
    next: u64,
    clients: BTreeMap<String, Client>,
    /// The bridged members of each room, with their meta.
    rooms: HashMap<String, BTreeMap<String, Value>>,
    log: EventLog,
    /// `POST /sse/control/fail`: the status and how many more `GET /sse` answer it.
    fail: Option<(StatusCode, u32)>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What the bridge needs of the Socket.IO namespace `/`.
pub trait SocketIoRooms: Send + Sync + 'static {
    /// Emits `event` with `args` (spread) to the Socket.IO room `room`.
    fn emit(&self, room: &str, event: &'static str, args: Vec<Value>) -> BoxFuture<()>;
    /// The Socket.IO members of `room`; `Err` when the adapter cannot say.
    fn members(&self, room: &str) -> BoxFuture<Result<Vec<Member>, ()>>;
    /// Whether a socket with this id is connected; `Err` when the adapter cannot say.
    fn is_socket(&self, sid: Sid) -> BoxFuture<Result<bool, ()>>;
}

/// [`SocketIoRooms`] over a socketioxide server.
pub struct Sio<A: Adapter>(pub SocketIo<A>);

impl<A: Adapter> SocketIoRooms for Sio<A> {
    fn emit(&self, room: &str, event: &'static str, args: Vec<Value>) -> BoxFuture<()> {
        let ns = self.0.of("/");
        let room = room.to_owned();
        Box::pin(async move {
            if let Some(ns) = ns {
                let _ = ns.to(room).emit(event, &Spread(&args)).await;
            }
        })
    }

    fn members(&self, room: &str) -> BoxFuture<Result<Vec<Member>, ()>> {
        let ns = self.0.of("/");
        let room = room.to_owned();
        Box::pin(async move {
            let names = ns.ok_or(())?.rooms().await.map_err(|_| ())?;
            Ok(rooms::members_of(&room, names.iter().map(|r| r.as_ref())))
        })
    }

    fn is_socket(&self, sid: Sid) -> BoxFuture<Result<bool, ()>> {
        let ns = self.0.of("/");
        Box::pin(async move {
            let sockets = ns.ok_or(())?.fetch_sockets().await.map_err(|_| ())?;
            Ok(sockets.iter().any(|s| s.data().id == sid))
        })
    }
}

/// Arguments serialized as a tuple, which socketioxide spreads into separate arguments.
struct Spread<'a>(&'a [Value]);

impl Serialize for Spread<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for value in self.0 {
            tuple.serialize_element(value)?;
        }
        tuple.end()
    }
}

/// The registry of bridged clients, their rooms and the SSE event log.
pub struct Bridge {
    state: Mutex<State>,
    sio: Box<dyn SocketIoRooms>,
    boot: String,
    sse_ping: Option<Duration>,
}

/// Creates the bridge and hooks it into the Socket.IO rooms ([`rooms::set_bridge`]).
pub fn install(sio: impl SocketIoRooms, log: EventLog, sse_ping: Option<Duration>) -> Arc<Bridge> {
    let bridge = Bridge::new(sio, log, sse_ping);
    rooms::set_bridge(Arc::new(Hooks(Arc::clone(&bridge))));
    bridge
}

impl Bridge {
    /// A bridge not yet hooked into the Socket.IO rooms.
    pub fn new(sio: impl SocketIoRooms, log: EventLog, sse_ping: Option<Duration>) -> Arc<Bridge> {
        Arc::new(Bridge {
            state: Mutex::new(State {
                next: 1,
                clients: BTreeMap::new(),
                rooms: HashMap::new(),
                log,
                fail: None,
            }),
            sio: Box::new(sio),
            boot: boot_word(),
            sse_ping,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The SSE heartbeat period (`None`: no heartbeat).
    pub fn sse_ping(&self) -> Option<Duration> {
        self.sse_ping
    }

    /// Connects a bridged client: checks its rooms, makes it a member, tells the others and
    /// lists the members.
    pub async fn connect(
        self: &Arc<Self>,
        kind: Kind,
        query: &ConnectQuery,
        resume: Option<u64>,
    ) -> Result<Connection, ConnectError> {
        for room in &query.rooms {
            if let Some(sid) = rooms::looks_like_socket_id(room) {
                let connected = self.sio.is_socket(sid).await.map_err(|()| {
                    ConnectError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        JoinError::Unavailable.to_string(),
                    )
                })?;
                if connected {
                    return Err(ConnectError::new(
                        StatusCode::BAD_REQUEST,
                        JoinError::InvalidRoom.to_string(),
                    ));
                }
            }
        }
        if query
            .rooms
            .iter()
            .any(|room| room.starts_with(rooms::LOCKED_PREFIX))
        {
            return Err(ConnectError::new(
                StatusCode::BAD_REQUEST,
                rooms::NOT_ALLOWED,
            ));
        }

        // A full room refuses the newcomer, as `rtio:join` does ([`rooms::Limits`]).
        let limits = rooms::limits();
        for room in &query.rooms {
            let socket_members = self.sio.members(room).await.map_err(|()| {
                ConnectError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    JoinError::Unavailable.to_string(),
                )
            })?;
            if socket_members.len() + self.bridged_members(room).len() >= limits.members_per_room {
                return Err(ConnectError::new(
                    StatusCode::CONFLICT,
                    JoinError::RoomFull.to_string(),
                ));
            }
        }

        let (tx, rx) = mpsc::channel(QUEUE);
        let (ctl_tx, ctl) = watch::channel(Ctl::default());
        let member = |id: &str| Member {
            id: id.to_owned(),
            meta: query.meta.clone(),
        };
        let (id, replay) = {
            let mut st = self.lock();
            if st.clients.len() >= MAX_CLIENTS {
                return Err(ConnectError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    TOO_MANY_CLIENTS,
                ));
            }
            let id = format!("{}-{}.{}", kind.prefix(), self.boot, st.next);
            st.next += 1;
            let replay = match (kind, resume) {
                (Kind::Sse, Some(last)) => st.log.after(last, &query.rooms),
                _ => Vec::new(),
            };
            st.clients.insert(
                id.clone(),
                Client {
                    kind,
                    rooms: query.rooms.clone(),
                    relays: TokenBucket::new(limits.relays_per_second, limits.relay_burst),
                    tx,
                    ctl: ctl_tx,
                    last_event_id: resume,
                },
            );
            for room in &query.rooms {
                st.rooms
                    .entry(room.clone())
                    .or_default()
                    .insert(id.clone(), query.meta.clone());
                let change = Presence::Joined(member(&id));
                self.deliver(
                    &mut st,
                    room,
                    Some(&id),
                    "rtio:presence",
                    presence_args(room, &change),
                );
            }
            (id, replay)
        };
        let guard = LeaveGuard {
            bridge: Arc::clone(self),
            id: id.clone(),
        };
        for room in &query.rooms {
            let change = Presence::Joined(member(&id));
            self.sio
                .emit(room, "rtio:presence", presence_args(room, &change))
                .await;
        }
        let mut members = Vec::with_capacity(query.rooms.len());
        for room in &query.rooms {
            // Read after joining: a socket joining meanwhile is listed or announced.
            let mut list = self.sio.members(room).await.map_err(|()| {
                ConnectError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    JoinError::Unavailable.to_string(),
                )
            })?;
            list.extend(self.bridged_members(room));
            members.push((room.clone(), list));
        }
        Ok(Connection {
            id,
            rx,
            ctl,
            replay,
            members,
            guard,
        })
    }

    /// The bridged members of `room`.
    pub fn bridged_members(&self, room: &str) -> Vec<Member> {
        self.lock()
            .rooms
            .get(room)
            .map_or_else(Vec::new, |members| {
                members
                    .iter()
                    .map(|(id, meta)| Member {
                        id: id.clone(),
                        meta: meta.clone(),
                    })
                    .collect()
            })
    }

    /// Relays a bridged member's message to the room's other members, bridged and Socket.IO, as
    /// `rtio:room` (room, event, from, ...args). Nothing is sent when `from` is not a bridged
    /// member of `room`, nor over the limits a socket's `rtio:to` has ([`rooms::Limits`]).
    pub async fn relay(
        &self,
        from: &str,
        room: &str,
        event: &str,
        args: Vec<Value>,
    ) -> Result<(), RelayError> {
        // The JSON of [event, ...args], as `rooms::relay_size` counts a socket's.
        let json_len = |value: &Value| serde_json::to_string(value).map_or(usize::MAX, |t| t.len());
        let size = args.iter().fold(2 + json_len(&json!(event)), |size, arg| {
            size.saturating_add(1).saturating_add(json_len(arg))
        });
        let mut out = Vec::with_capacity(args.len() + 3);
        out.extend([json!(room), json!(event), json!(from)]);
        out.extend(args);
        {
            let mut st = self.lock();
            if !st
                .rooms
                .get(room)
                .is_some_and(|members| members.contains_key(from))
            {
                return Err(RelayError::NotAMember);
            }
            if let Some(client) = st.clients.get_mut(from) {
                if !client.relays.take() {
                    return Err(RelayError::RateLimited);
                }
            }
            if size > rooms::limits().relay_bytes {
                return Err(RelayError::TooLarge);
            }
            self.deliver(&mut st, room, Some(from), "rtio:room", out.clone());
        }
        self.sio.emit(room, "rtio:room", out).await;
        Ok(())
    }

    /// Logs an event about `room` and queues it for the room's bridged members but `except`;
    /// members too slow to take it are cut and removed.
    fn deliver(
        &self,
        st: &mut State,
        room: &str,
        except: Option<&str>,
        event: &str,
        args: Vec<Value>,
    ) {
        let slow = queue_for_room(st, room, except, event, args);
        self.remove(st, slow, Some(Cut::Abrupt));
    }

    /// Removes clients (cutting them `how`): the others in their rooms get `{left: id}`, the
    /// Socket.IO members from a task of their own.
    fn remove(&self, st: &mut State, mut ids: Vec<String>, how: Option<Cut>) {
        let mut gone = Vec::new();
        while let Some(id) = ids.pop() {
            let Some(client) = st.clients.remove(&id) else {
                continue;
            };
            if let Some(how) = how {
                client.cut(how);
            }
            for room in client.rooms {
                if let Some(members) = st.rooms.get_mut(&room) {
                    members.remove(&id);
                    if members.is_empty() {
                        st.rooms.remove(&room);
                    }
                }
                let args = presence_args(&room, &Presence::Left(id.clone()));
                ids.extend(queue_for_room(
                    st,
                    &room,
                    Some(&id),
                    "rtio:presence",
                    args.clone(),
                ));
                gone.push(self.sio.emit(&room, "rtio:presence", args));
            }
        }
        if gone.is_empty() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                for emit in gone {
                    emit.await;
                }
            });
        }
    }

    /// `POST /sse/publish`: logs an event and queues it for the SSE streams in `room` (every
    /// stream when `None`). Returns its id and how many streams it was queued for.
    pub fn publish(&self, event: &str, room: Option<&str>, raw: bool, data: Value) -> (u64, usize) {
        let mut st = self.lock();
        let entry = st.log.append(event, room, raw, data, None);
        let mut delivered = 0;
        let mut slow = Vec::new();
        for (id, client) in &st.clients {
            let wanted = client.kind == Kind::Sse
                && room.is_none_or(|room| client.rooms.iter().any(|r| r == room));
            if !wanted {
                continue;
            }
            if client.tx.try_send(Out::Sse(Arc::clone(&entry))).is_ok() {
                delivered += 1;
            } else {
                slow.push(id.clone());
            }
        }
        self.remove(&mut st, slow, Some(Cut::Abrupt));
        (entry.id, delivered)
    }

    /// `POST /sse/control/fail`: the next `count` `GET /sse` answer `status` (`count` 0 cancels).
    pub fn set_fail(&self, status: StatusCode, count: u32) {
        self.lock().fail = (count > 0).then_some((status, count));
    }

    /// The status the next `GET /sse` must answer instead of a stream, if one is due.
    pub fn take_fail(&self) -> Option<StatusCode> {
        let mut st = self.lock();
        let (status, count) = st.fail?;
        st.fail = (count > 1).then_some((status, count - 1));
        Some(status)
    }

    /// Stalls every `kind` client connected now for `ms`; returns how many.
    pub fn stall(&self, kind: Kind, ms: u64) -> usize {
        let until = Instant::now() + Duration::from_millis(ms);
        let st = self.lock();
        let mut n = 0;
        for client in st.clients.values().filter(|c| c.kind == kind) {
            client
                .ctl
                .send_modify(|ctl| ctl.stalled_until = Some(until));
            n += 1;
        }
        n
    }

    /// Cuts every client of `kind` (every client when `None`); returns how many.
    pub fn cut(&self, kind: Option<Kind>, how: Cut) -> usize {
        let st = self.lock();
        let mut n = 0;
        for client in st
            .clients
            .values()
            .filter(|c| kind.is_none_or(|k| c.kind == k))
        {
            client.cut(how);
            n += 1;
        }
        n
    }

    /// The connected clients of `kind`.
    pub fn clients(&self, kind: Kind) -> Vec<ClientInfo> {
        self.lock()
            .clients
            .iter()
            .filter(|(_, c)| c.kind == kind)
            .map(|(id, c)| ClientInfo {
                id: id.clone(),
                rooms: c.rooms.clone(),
                last_event_id: c.last_event_id,
            })
            .collect()
    }
}

/// Logs an event about `room` and queues it for the room's bridged members but `except`;
/// returns the members whose queue is full.
fn queue_for_room(
    st: &mut State,
    room: &str,
    except: Option<&str>,
    event: &str,
    args: Vec<Value>,
) -> Vec<String> {
    let has_ws = st.rooms.get(room).is_some_and(|members| {
        members
            .keys()
            .any(|id| st.clients.get(id).is_some_and(|c| c.kind == Kind::Ws))
    });
    let frame: Option<Arc<str>> = has_ws.then(|| {
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(json!(event));
        all.extend_from_slice(&args);
        Value::Array(all).to_string().into()
    });
    let entry = st
        .log
        .append(event, Some(room), false, Value::Array(args), except);
    let mut slow = Vec::new();
    let Some(members) = st.rooms.get(room) else {
        return slow;
    };
    for id in members.keys() {
        if Some(id.as_str()) == except {
            continue;
        }
        let Some(client) = st.clients.get(id) else {
            continue;
        };
        let out = match (client.kind, &frame) {
            (Kind::Sse, _) => Out::Sse(Arc::clone(&entry)),
            (Kind::Ws, Some(frame)) => Out::Ws(Arc::clone(frame)),
            (Kind::Ws, None) => continue,
        };
        if client.tx.try_send(out).is_err() {
            slow.push(id.clone());
        }
    }
    slow
}

fn presence_args(room: &str, change: &Presence) -> Vec<Value> {
    vec![
        json!(room),
        serde_json::to_value(change).unwrap_or(Value::Null),
    ]
}

/// A short random word (base 36), different on every start.
fn boot_word() -> String {
    let mut n = RandomState::new().hash_one(std::process::id()) % 36u64.pow(6);
    let mut word = Vec::new();
    for _ in 0..6 {
        word.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize]);
        n /= 36;
    }
    String::from_utf8(word).unwrap_or_default()
}

/// Ends a bridged client's membership when dropped (its stream or connection is gone).
pub struct LeaveGuard {
    bridge: Arc<Bridge>,
    id: String,
}

impl Drop for LeaveGuard {
    fn drop(&mut self) {
        let mut st = self.bridge.lock();
        self.bridge.remove(&mut st, vec![self.id.clone()], None);
    }
}

/// The Socket.IO side's calls into the bridge.
struct Hooks(Arc<Bridge>);

impl rooms::BridgeHooks for Hooks {
    fn members(&self, room: &str) -> Vec<Member> {
        self.0.bridged_members(room)
    }

    fn presence(&self, room: &str, change: &Presence) {
        let about = match change {
            Presence::Joined(m) | Presence::Updated(m) => m.id.as_str(),
            Presence::Left(id) => id.as_str(),
        };
        let mut st = self.0.lock();
        self.0.deliver(
            &mut st,
            room,
            Some(about),
            "rtio:presence",
            presence_args(room, change),
        );
    }

    fn message(&self, room: &str, event: &str, from: &str, args: Vec<Value>) {
        let mut out = Vec::with_capacity(args.len() + 3);
        out.extend([json!(room), json!(event), json!(from)]);
        out.extend(args);
        let mut st = self.0.lock();
        self.0.deliver(&mut st, room, Some(from), "rtio:room", out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Result<ConnectQuery, String> {
        parse_connect_query(text)
    }

    #[test]
    fn query_rooms_meta_and_last_id() {
        let got =
            q("room=a&room=b%20c&room=a&meta=%7B%22name%22%3A%22Ada%22%7D&lastEventId=42&x=1")
                .expect("valid");
        assert_eq!(got.rooms, vec!["a".to_owned(), "b c".to_owned()]);
        assert_eq!(got.meta, json!({"name": "Ada"}));
        assert_eq!(got.last_event_id, Some(42));
        // `+` is a space, as URLSearchParams writes it.
        assert_eq!(q("room=doc+1").expect("valid").rooms, vec!["doc 1"]);
        let empty = q("").expect("valid");
        assert_eq!(empty.rooms, Vec::<String>::new());
        assert_eq!(empty.meta, Value::Null);
        assert_eq!(empty.last_event_id, None);
        // A lastEventId that is not a non-negative integer is ignored.
        for bad in ["-1", "x", "1.5", "", "99999999999999999999999"] {
            assert_eq!(
                q(&format!("lastEventId={bad}"))
                    .expect("valid")
                    .last_event_id,
                None
            );
        }
    }

    #[test]
    fn query_errors() {
        assert_eq!(q("room="), Err("invalid room".into()));
        assert_eq!(q("room=rtio%3Ax"), Err("invalid room".into()));
        assert_eq!(q("room=%5B%22rtio%3Ameta"), Err("invalid room".into()));
        assert_eq!(
            q(&format!("room={}", "r".repeat(129))),
            Err("invalid room".into())
        );
        assert_eq!(q("meta=%7Bnope"), Err("invalid meta".into()));
        let big = format!("meta=%22{}%22", "x".repeat(1023));
        assert_eq!(q(&big), Err("meta too large".into()));
        let at_limit = format!("meta=%22{}%22", "x".repeat(1022));
        assert!(q(&at_limit).is_ok());
        let rooms: Vec<String> = (0..=MAX_ROOMS).map(|n| format!("room=r{n}")).collect();
        assert_eq!(q(&rooms.join("&")), Err("too many rooms".into()));
        assert!(q(&rooms[..MAX_ROOMS].join("&")).is_ok());
        // Bytes that are not UTF-8 are replaced, never a panic.
        assert!(q("room=%FF%FE").is_ok());
    }

    #[test]
    fn resume_header_wins_when_valid() {
        assert_eq!(resume_from(Some("7"), Some(3)), Some(7));
        assert_eq!(resume_from(Some("nope"), Some(3)), Some(3));
        assert_eq!(resume_from(None, Some(3)), Some(3));
        assert_eq!(resume_from(Some(" 12 "), None), Some(12));
        assert_eq!(resume_from(None, None), None);
    }

    #[test]
    fn ids_never_look_like_socket_ids() {
        let word = boot_word();
        assert_eq!(word.len(), 6);
        for n in [1u64, 123_456_789, u64::MAX] {
            for kind in [Kind::Sse, Kind::Ws] {
                let id = format!("{}-{word}.{n}", kind.prefix());
                assert!(rooms::looks_like_socket_id(&id).is_none(), "{id}");
            }
        }
    }

    #[test]
    fn spread_serializes_as_a_tuple() {
        let args = [json!("a"), json!({"x": 1})];
        assert_eq!(
            serde_json::to_string(&Spread(&args)).expect("serializable"),
            r#"["a",{"x":1}]"#
        );
    }
}

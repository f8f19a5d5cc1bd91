//! Rooms and presence for the `rtio:` convention of `ROOMS.md`, on socketioxide.
//!
//! | client emits                        | server does                                                        |
//! |-------------------------------------|--------------------------------------------------------------------|
//! | `rtio:join` (room, meta, ack)       | joins, acks `{ ok: true, members }` or `{ ok: false, error }`      |
//! | `rtio:leave` (room, ack)            | leaves, acks `{ ok: true }`                                        |
//! | `rtio:to` (room, event, ...args)    | relays `rtio:room` (room, event, from, ...args) to the others;     |
//! |                                     | with an ack, acks `{ ok: true }` or `{ ok: false, error }`         |
//!
//! and the other members of a room receive `rtio:presence` (room, change) with `change` one of
//! `{ joined: member }`, `{ updated: member }` and `{ left: id }`; a member is `{ id, meta }`.
//! A socket that disconnects leaves its rooms, so the others see `{ left: id }`.
//!
//! # Where presence lives
//!
//! There is no store of our own. A member of room `R` is in two Socket.IO rooms:
//!
//! * `R` itself, so server code reaches the members with `io.to(R)` and relays are one broadcast;
//! * a private room whose name is the JSON text of `["rtio:meta", R, socket_id, meta]`
//!   ([`meta_room_name`]), which carries the member's `meta`.
//!
//! The member list is then the set of adapter rooms that start with the JSON prefix
//! `["rtio:meta",R,` ([`meta_room_prefix`]), read with the adapter's `rooms()`. With
//! socketioxide's Redis adapter that call asks every server instance for its rooms, so
//! sockets on different instances see each other with no extra state, and a relay or a
//! presence change is one adapter broadcast.
//!
//! # Validation
//!
//! A room is a string of 1 to [`MAX_ROOM_LEN`] UTF-16 code units (JavaScript's
//! `String.prototype.length`, which the client checks too), not starting with `rtio:` or
//! `["rtio:` (those names are reserved), and not the id of a connected socket. `meta` is any
//! JSON value (`null` when missing) of at most [`MAX_META_BYTES`] bytes as compact JSON;
//! binary attachments are refused (`invalid meta`). Arguments of the wrong type are answered,
//! never a panic: `invalid room`, `meta too large`, `invalid meta`, or the authorization hook's
//! own reason. A hostile `rtio:to` or `rtio:leave` is dropped or answered the same way.
//!
//! # Limits
//!
//! One client must not flood a room or make the server broadcast without bound ([`Limits`],
//! set once with [`set_limits`]; ROOMS.md "Limits" has the same table as the Node helper): a
//! token bucket per socket for relays and one for joins, both counted when the event arrives
//! (so a flood is turned away at once, without waiting in the socket's queue), a cap on the
//! rooms of a socket and on the members of a room, a cap on a relay's size, and `updated`
//! presence coalesced per member and room (the first at once, then the last of each interval).
//!
//! # Ordering
//!
//! socketioxide spawns each event's future on its own task, so two events of a socket can
//! run in either order (see [`crate::protocol`]). A join followed by a leave must not be seen
//! as a leave then a join, and relayed messages must keep their order, so every `rtio:` event
//! of a socket is queued in packet order (in the handler's body) and run one after the other by
//! a task of that socket. The disconnect handler queues the last job, which announces the
//! departure from the rooms the jobs recorded (not from `socket.rooms()`, which can already be
//! empty then: see [`register`]). A join still queued when the socket disconnects is undone.
//!
//! # Members beyond Socket.IO
//!
//! The server's SSE and plain-WebSocket clients ([`crate::bridge`]) are members of the same
//! rooms. Once [`set_bridge`] has given this module their [`BridgeHooks`], a join's
//! acknowledgement lists them too, and every presence change and `rtio:to` of a socket is also
//! handed to them (a message whose arguments carry binary data reaches Socket.IO members only:
//! those clients speak JSON).

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::future::{ready, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef};
use socketioxide::socket::Sid;
use tokio::sync::{mpsc, oneshot};

use crate::payload::{EventArgs, Payload};

/// Longest room name, in UTF-16 code units (as JavaScript counts a string's length).
pub const MAX_ROOM_LEN: usize = 128;
/// Largest `meta`, in bytes of compact JSON.
pub const MAX_META_BYTES: usize = 1024;
/// First element of a meta room's JSON array.
pub const META_TAG: &str = "rtio:meta";
/// Prefix of the room names this convention reserves.
pub const RESERVED_PREFIX: &str = "rtio:";
/// Prefix of the meta room names (and of any JSON array of them): reserved too.
pub const RESERVED_JSON_PREFIX: &str = "[\"rtio:";

/// Error text of a refusal by [`demo_authorize`].
pub const NOT_ALLOWED: &str = "not allowed";
/// Rooms [`demo_authorize`] refuses start with this.
pub const LOCKED_PREFIX: &str = "locked:";

/// What one client may do (ROOMS.md "Limits"). A rate of `f64::INFINITY` lifts that bucket,
/// `usize::MAX` a cap, and a zero interval sends every update at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// `rtio:to` messages a socket may send a second, on average.
    pub relays_per_second: f64,
    /// `rtio:to` messages a socket may send at once.
    pub relay_burst: f64,
    /// `rtio:join` requests (updates included) a socket may send a second, on average.
    pub joins_per_second: f64,
    /// `rtio:join` requests a socket may send at once.
    pub join_burst: f64,
    /// Rooms a socket may be a member of.
    pub rooms_per_socket: usize,
    /// Members a room may have (bridged members included).
    pub members_per_room: usize,
    /// Bytes of a relay's event and arguments ([`relay_size`]).
    pub relay_bytes: usize,
    /// An `updated` presence goes at once, then at most one per interval per member and room.
    pub presence_interval: Duration,
}

impl Default for Limits {
    /// Room for a cursor sent on every frame of a 144 Hz screen, with a chat beside it.
    fn default() -> Self {
        Limits {
            relays_per_second: 200.0,
            relay_burst: 400.0,
            joins_per_second: 10.0,
            join_burst: 100.0,
            rooms_per_socket: 100,
            members_per_room: 1000,
            relay_bytes: 16 * 1024,
            presence_interval: Duration::from_millis(100),
        }
    }
}

static LIMITS: OnceLock<Limits> = OnceLock::new();

/// Sets the limits of every socket [`register`]ed from now on (once per process; `false` when
/// they were set already). Without it, [`Limits::default`].
pub fn set_limits(limits: Limits) -> bool {
    LIMITS.set(limits).is_ok()
}

/// The limits in force: those given to [`set_limits`], or the defaults.
pub fn limits() -> Limits {
    LIMITS.get().copied().unwrap_or_default()
}

/// A token bucket: `rate` tokens a second, holding at most `burst`.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate: f64, burst: f64) -> Self {
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            at: Instant::now(),
        }
    }

    /// Spends a token, or says there is none.
    pub fn take(&mut self) -> bool {
        self.take_at(Instant::now())
    }

    fn take_at(&mut self, now: Instant) -> bool {
        if self.rate == f64::INFINITY {
            return true;
        }
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.at = now;
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

/// The size of a relay's event and arguments as ROOMS.md counts it: the bytes of the JSON
/// array `[event, ...args]`, each binary part counted as `null` plus its length.
pub fn relay_size(event: &str, args: &[Payload]) -> usize {
    fn size(payload: &Payload) -> usize {
        match payload {
            Payload::Null | Payload::Bool(true) => 4,
            Payload::Bool(false) => 5,
            Payload::Int(n) => n.to_string().len(),
            Payload::Uint(n) => n.to_string().len(),
            Payload::Float(n) => serde_json::to_string(n).map_or(4, |text| text.len()),
            Payload::Str(text) => json_string(text).len(),
            Payload::Bin(bytes) => 4 + bytes.len(),
            Payload::Array(items) => {
                2 + items.len().saturating_sub(1) + items.iter().map(size).sum::<usize>()
            }
            Payload::Object(entries) => {
                2 + entries.len().saturating_sub(1)
                    + entries
                        .iter()
                        .map(|(key, value)| json_string(key).len() + 1 + size(value))
                        .sum::<usize>()
            }
        }
    }
    2 + json_string(event).len() + args.iter().map(|arg| 1 + size(arg)).sum::<usize>()
}

/// Why a relay is refused; the `Display` text is the ack's `error`, when one was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayError {
    /// The event name is not a string.
    InvalidEvent,
    /// Over the socket's relay rate.
    RateLimited,
    /// Over [`Limits::relay_bytes`].
    TooLarge,
    /// The sender is not a member of the room (or the room is not valid).
    NotAMember,
}

impl fmt::Display for RelayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RelayError::InvalidEvent => "invalid event",
            RelayError::RateLimited => "rate limited",
            RelayError::TooLarge => "too large",
            RelayError::NotAMember => "not a member",
        })
    }
}

impl std::error::Error for RelayError {}

/// Why a join (or a leave) is refused; the `Display` text is the ack's `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// The room is not a string, is empty or too long, is reserved, or is a socket's id.
    InvalidRoom,
    /// `meta` is more than [`MAX_META_BYTES`] bytes of JSON.
    MetaTooLarge,
    /// `meta` carries a binary attachment, which is not JSON.
    InvalidMeta,
    /// The adapter could not list the rooms (e.g. Redis is down).
    Unavailable,
    /// Over the socket's join rate.
    RateLimited,
    /// The socket is a member of [`Limits::rooms_per_socket`] rooms already.
    TooManyRooms,
    /// The room has [`Limits::members_per_room`] members already.
    RoomFull,
    /// The authorization hook said no, with this reason.
    Refused(String),
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::InvalidRoom => f.write_str("invalid room"),
            JoinError::MetaTooLarge => f.write_str("meta too large"),
            JoinError::InvalidMeta => f.write_str("invalid meta"),
            JoinError::Unavailable => f.write_str("rooms unavailable"),
            JoinError::RateLimited => f.write_str("rate limited"),
            JoinError::TooManyRooms => f.write_str("too many rooms"),
            JoinError::RoomFull => f.write_str("room full"),
            JoinError::Refused(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for JoinError {}

/// A member of a room, as the acknowledgement and presence events show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    /// The member's socket id.
    pub id: String,
    /// What it gave when it joined (`null` if nothing).
    pub meta: Value,
}

/// The change carried by `rtio:presence`: `{"joined":member}`, `{"updated":member}` or
/// `{"left":id}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    /// A socket joined.
    Joined(Member),
    /// A member joined again with new `meta`.
    Updated(Member),
    /// A member left or disconnected.
    Left(String),
}

/// The acknowledgement of `rtio:join`, `rtio:leave` and `rtio:to`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Reply {
    Joined { ok: bool, members: Vec<Member> },
    Done { ok: bool },
    Refused { ok: bool, error: String },
}

impl Reply {
    fn refused(error: &impl fmt::Display) -> Reply {
        Reply::Refused {
            ok: false,
            error: error.to_string(),
        }
    }
}

/// Checks a room name against the convention (not whether it is a socket's id, which needs the
/// adapter; see [`looks_like_socket_id`]).
pub fn validate_room(room: &str) -> Result<(), JoinError> {
    let len = room.encode_utf16().count();
    if len == 0
        || len > MAX_ROOM_LEN
        || room.starts_with(RESERVED_PREFIX)
        || room.starts_with(RESERVED_JSON_PREFIX)
    {
        return Err(JoinError::InvalidRoom);
    }
    Ok(())
}

/// The socket id a room name would be, if it has the form of one (16 characters of
/// `A-Z a-z 0-9 _ -`); only such names need the adapter to be asked.
pub fn looks_like_socket_id(room: &str) -> Option<Sid> {
    room.parse().ok()
}

/// Reads the `meta` argument: JSON without binary, at most [`MAX_META_BYTES`] bytes.
pub fn validate_meta(meta: Option<&Payload>) -> Result<Value, JoinError> {
    let Some(meta) = meta else {
        return Ok(Value::Null);
    };
    let value = payload_to_json(meta).ok_or(JoinError::InvalidMeta)?;
    if json_len(&value) > MAX_META_BYTES {
        return Err(JoinError::MetaTooLarge);
    }
    Ok(value)
}

/// A [`Payload`] as plain JSON; `None` when it holds a binary attachment.
fn payload_to_json(payload: &Payload) -> Option<Value> {
    Some(match payload {
        Payload::Null => Value::Null,
        Payload::Bool(b) => Value::Bool(*b),
        Payload::Int(n) => Value::from(*n),
        Payload::Uint(n) => Value::from(*n),
        // A non-finite float cannot come from JSON text; `from` maps it to `null` anyway.
        Payload::Float(n) => Value::from(*n),
        Payload::Str(s) => Value::String(s.clone()),
        Payload::Bin(_) => return None,
        Payload::Array(items) => {
            Value::Array(items.iter().map(payload_to_json).collect::<Option<_>>()?)
        }
        Payload::Object(entries) => Value::Object(
            entries
                .iter()
                .map(|(key, value)| Some((key.clone(), payload_to_json(value)?)))
                .collect::<Option<_>>()?,
        ),
    })
}

fn json_len(value: &Value) -> usize {
    // Serializing a `Value` to a string cannot fail.
    serde_json::to_string(value).map_or(usize::MAX, |text| text.len())
}

fn json_string(s: &str) -> String {
    // Serializing a `&str` cannot fail.
    serde_json::to_string(s).unwrap_or_default()
}

/// The name of the private room that records `meta` for socket `id` in `room`: the JSON text
/// of `["rtio:meta", room, id, meta]`.
pub fn meta_room_name(room: &str, id: &str, meta: &Value) -> String {
    serde_json::to_string(&(META_TAG, room, id, meta)).unwrap_or_default()
}

/// What every meta room name of `room` starts with: `["rtio:meta",<room as JSON>,`.
pub fn meta_room_prefix(room: &str) -> String {
    format!("[{},{},", json_string(META_TAG), json_string(room))
}

/// Reads a meta room name back into `(room, id, meta)`; `None` for any other room name.
pub fn parse_meta_room(name: &str) -> Option<(String, String, Value)> {
    if !name.starts_with(RESERVED_JSON_PREFIX) {
        return None;
    }
    let (tag, room, id, meta): (String, String, String, Value) = serde_json::from_str(name).ok()?;
    (tag == META_TAG).then_some((room, id, meta))
}

/// The members of `room` among a list of adapter room names.
pub fn members_of<'a>(room: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<Member> {
    let prefix = meta_room_prefix(room);
    names
        .into_iter()
        .filter(|name| name.starts_with(&prefix))
        .filter_map(parse_meta_room)
        .filter(|(r, _, _)| r == room)
        .map(|(_, id, meta)| Member { id, meta })
        .collect()
}

/// The authorization rule of the demo and test server: rooms whose name starts with
/// [`LOCKED_PREFIX`] are refused with [`NOT_ALLOWED`].
pub fn demo_authorize<A: Adapter>(
    _socket: &SocketRef<A>,
    room: &str,
    _meta: &Value,
) -> Result<(), String> {
    if room.starts_with(LOCKED_PREFIX) {
        Err(NOT_ALLOWED.to_owned())
    } else {
        Ok(())
    }
}

/// Members of the rooms that are not sockets of this namespace (the SSE and plain-WebSocket
/// clients of [`crate::bridge`]), and how to reach them.
pub trait BridgeHooks: Send + Sync {
    /// The members of `room` on the other side.
    fn members(&self, room: &str) -> Vec<Member>;
    /// A socket's presence change in `room`, for the members on the other side.
    fn presence(&self, room: &str, change: &Presence);
    /// A socket's `rtio:to`, for the members on the other side: `rtio:room` (room, event, from,
    /// ...args).
    fn message(&self, room: &str, event: &str, from: &str, args: Vec<Value>);
}

static BRIDGE: OnceLock<Arc<dyn BridgeHooks>> = OnceLock::new();

/// Hands the rooms of every socket [`register`]ed from now on to `hooks` too (once per process;
/// `false` when hooks were set already).
pub fn set_bridge(hooks: Arc<dyn BridgeHooks>) -> bool {
    BRIDGE.set(hooks).is_ok()
}

fn bridge() -> Option<&'static dyn BridgeHooks> {
    BRIDGE.get().map(|hooks| &**hooks)
}

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Runs a socket's room jobs one after the other, in the order they were queued.
#[derive(Clone)]
struct Queue(mpsc::UnboundedSender<Job>);

impl Queue {
    /// Starts the task; it ends when every sender (the socket's handlers) is gone.
    fn start() -> Queue {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                job.await;
            }
        });
        Queue(tx)
    }

    fn push(&self, job: impl Future<Output = ()> + Send + 'static) {
        // Fails only when the task is gone, i.e. the runtime shuts down.
        let _ = self.0.send(Box::pin(job));
    }
}

/// The rooms a socket joined with `rtio:join`, kept by its jobs (so in packet order).
///
/// The adapter's own list cannot be trusted at disconnect time: see [`register`].
type Joined = Arc<Mutex<BTreeSet<String>>>;

/// A socket's `updated` presence windows (ROOMS.md "Limits"): per room, the window's serial
/// number and the update waiting for its end.
#[derive(Default)]
struct Windows {
    serial: u64,
    open: HashMap<String, (u64, Option<Member>)>,
}

/// What a socket's room jobs share.
#[derive(Clone)]
struct Shared {
    queue: Queue,
    joined: Joined,
    windows: Arc<Mutex<Windows>>,
    limits: Limits,
}

/// Serves `rtio:join`, `rtio:leave` and `rtio:to` on `socket`, and announces its departure from
/// its rooms when it disconnects. Call it in the namespace's connect handler.
///
/// `authorize(socket, room, meta)` runs for every valid join (updates included); `Err(reason)`
/// refuses it with `reason` as the ack's `error`. The limits are those of [`set_limits`].
///
/// It sets the socket's disconnect handler (socketioxide keeps one per socket, so a handler
/// set later replaces it and departures are no longer announced).
///
/// The rooms to announce on disconnect are the ones this module recorded, not
/// `socket.rooms()`: socketioxide 0.18.9 runs the disconnect handler before removing the
/// socket from its rooms, but when a client disconnects itself (a DISCONNECT packet, then
/// the transport closes), the transport's close calls `close` a second time, finds no
/// handler left, and removes the socket from every room at once, while the handler's
/// future may still be running.
pub fn register<A, F>(socket: &SocketRef<A>, authorize: F)
where
    A: Adapter,
    F: Fn(&SocketRef<A>, &str, &Value) -> Result<(), String> + Send + Sync + 'static,
{
    let limits = limits();
    let shared = Shared {
        queue: Queue::start(),
        joined: Joined::default(),
        windows: Arc::default(),
        limits,
    };
    let authorize = Arc::new(authorize);
    // Shared by the handler's clones (socketioxide clones a handler for each event).
    let joins = Arc::new(Mutex::new(TokenBucket::new(
        limits.joins_per_second,
        limits.join_burst,
    )));
    let relays = Arc::new(Mutex::new(TokenBucket::new(
        limits.relays_per_second,
        limits.relay_burst,
    )));

    let sh = shared.clone();
    socket.on(
        "rtio:join",
        move |socket: SocketRef<A>, args: EventArgs, ack: AckSender<A>| {
            // Counted on arrival, so a flood is turned away without waiting in line.
            if !guard(&joins).take() {
                let _ = ack.send(&Reply::refused(&JoinError::RateLimited));
                return ready(());
            }
            let (authorize, shared) = (Arc::clone(&authorize), sh.clone());
            sh.queue.push(async move {
                let auth = |s: &SocketRef<A>, r: &str, m: &Value| authorize(s, r, m);
                let reply = match join(&socket, &shared, args, auth).await {
                    Ok(members) => Reply::Joined { ok: true, members },
                    Err(error) => Reply::refused(&error),
                };
                let _ = ack.send(&reply);
            });
            ready(())
        },
    );

    let sh = shared.clone();
    socket.on(
        "rtio:leave",
        move |socket: SocketRef<A>, args: EventArgs, ack: AckSender<A>| {
            let shared = sh.clone();
            sh.queue.push(async move {
                let reply = match leave(&socket, &shared, args).await {
                    Ok(()) => Reply::Done { ok: true },
                    Err(error) => Reply::refused(&error),
                };
                let _ = ack.send(&reply);
            });
            ready(())
        },
    );

    let sh = shared.clone();
    socket.on(
        "rtio:to",
        move |socket: SocketRef<A>, args: EventArgs, ack: AckSender<A>| {
            // Counted and measured on arrival, so a flood is turned away without waiting in
            // line. An ack is sent only when the client asked for one.
            let checked = match args.0.get(1) {
                Some(Payload::Str(event)) => {
                    if !guard(&relays).take() {
                        Err(RelayError::RateLimited)
                    } else if relay_size(event, args.0.get(2..).unwrap_or_default())
                        > limits.relay_bytes
                    {
                        Err(RelayError::TooLarge)
                    } else {
                        Ok(())
                    }
                }
                _ => Err(RelayError::InvalidEvent),
            };
            if let Err(error) = checked {
                let _ = ack.send(&Reply::refused(&error));
                return ready(());
            }
            sh.queue.push(async move {
                let reply = match relay(&socket, args).await {
                    Ok(()) => Reply::Done { ok: true },
                    Err(error) => Reply::refused(&error),
                };
                let _ = ack.send(&reply);
            });
            ready(())
        },
    );

    socket.on_disconnect(move |socket: SocketRef<A>| {
        let (done, finished) = oneshot::channel::<()>();
        let sh = shared.clone();
        shared.queue.push(async move {
            guard(&sh.windows).open.clear();
            let rooms = std::mem::take(&mut *guard(&sh.joined));
            for room in rooms {
                leave_room(&socket, &sh, room, true).await;
            }
            let _ = done.send(());
        });
        async move {
            // Keeps the socket in its rooms (unless the transport's close removed it
            // already) until the last job has run.
            let _ = finished.await;
        }
    });
}

fn guard<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The room named by the first argument, if it is a string.
fn room_arg(args: &EventArgs) -> Option<&str> {
    match args.0.first() {
        Some(Payload::Str(room)) => Some(room),
        _ => None,
    }
}

/// This socket's meta rooms for `room` (one, unless something else joined it to more).
fn own_meta_rooms<A: Adapter>(socket: &SocketRef<A>, room: &str) -> Vec<String> {
    let prefix = meta_room_prefix(room);
    let id = socket.id.to_string();
    socket
        .rooms()
        .into_iter()
        .filter(|name| name.starts_with(&prefix))
        .filter(|name| parse_meta_room(name).is_some_and(|(r, i, _)| r == room && i == id))
        .map(|name| name.into_owned())
        .collect()
}

/// Handles `rtio:join`: returns the members, joiner included, and tells the others.
async fn join<A, F>(
    socket: &SocketRef<A>,
    shared: &Shared,
    args: EventArgs,
    authorize: F,
) -> Result<Vec<Member>, JoinError>
where
    A: Adapter,
    F: FnOnce(&SocketRef<A>, &str, &Value) -> Result<(), String>,
{
    let room = room_arg(&args).ok_or(JoinError::InvalidRoom)?.to_owned();
    validate_room(&room)?;
    let meta = validate_meta(args.0.get(1))?;
    // With cookie sessions, the name shown is the session's (checked at the handshake).
    let meta = crate::sessions::bind(
        crate::sessions::of(&socket.req_parts().headers)
            .ok()
            .flatten()
            .as_ref(),
        meta,
    );
    if let Some(sid) = looks_like_socket_id(&room) {
        if sid == socket.id || is_connected(socket, sid).await? {
            return Err(JoinError::InvalidRoom);
        }
    }
    let was_member = guard(&shared.joined).contains(&room);
    if !was_member && guard(&shared.joined).len() >= shared.limits.rooms_per_socket {
        return Err(JoinError::TooManyRooms);
    }
    authorize(socket, &room, &meta).map_err(JoinError::Refused)?;

    let id = socket.id.to_string();
    let old_meta = own_meta_rooms(socket, &room);
    let new_meta = meta_room_name(&room, &id, &meta);
    // Join first, then read: two sockets joining at once each either list the other or get
    // its presence event.
    socket.leave(old_meta.clone());
    socket.join(vec![room.clone(), new_meta.clone()]);
    if !socket.connected() {
        // socketioxide may already have dropped the socket's rooms (it marks the socket
        // disconnected first), so these would stay forever.
        socket.leave(vec![room, new_meta]);
        return Err(JoinError::Unavailable);
    }
    // Puts things back as they were.
    let undo = |error: JoinError| {
        socket.leave(new_meta.clone());
        socket.join(old_meta.clone());
        if !was_member {
            socket.leave(room.clone());
        }
        Err(error)
    };

    // Every room of every other socket of the namespace, on every server instance.
    let Ok(others) = socket.broadcast().rooms().await else {
        return undo(JoinError::Unavailable);
    };
    let me = Member { id, meta };
    let mut members = members_of(&room, others.iter().map(|r| r.as_ref()));
    members.retain(|m| m.id != me.id);
    if let Some(bridge) = bridge() {
        members.extend(bridge.members(&room));
    }
    // Two joining at once may both see the other and both be refused: never one too many.
    if !was_member && members.len() >= shared.limits.members_per_room {
        return undo(JoinError::RoomFull);
    }
    guard(&shared.joined).insert(room.clone());
    members.push(me.clone());

    if was_member {
        announce_update(socket, shared, &room, me).await;
    } else {
        announce(socket, &room, &Presence::Joined(me)).await;
    }
    Ok(members)
}

/// Tells the other members of `room`, bridged ones included, about a change.
async fn announce<A: Adapter>(socket: &SocketRef<A>, room: &str, change: &Presence) {
    let _ = socket
        .to(room.to_owned())
        .emit("rtio:presence", &(room, change))
        .await;
    if let Some(bridge) = bridge() {
        bridge.presence(room, change);
    }
}

/// Announces `updated`, coalesced: the first goes at once and opens a window; updates within
/// it wait for its end, and only the last of them goes (then opening the next window).
async fn announce_update<A: Adapter>(
    socket: &SocketRef<A>,
    shared: &Shared,
    room: &str,
    member: Member,
) {
    if let Some((_, pending)) = guard(&shared.windows).open.get_mut(room) {
        *pending = Some(member);
        return;
    }
    announce(socket, room, &Presence::Updated(member)).await;
    open_window(socket.clone(), shared.clone(), room.to_owned());
}

/// Opens `room`'s update window; at its end, the update waiting (if any) is announced by a job
/// of the socket's queue, so it keeps its place among the socket's joins and leaves.
fn open_window<A: Adapter>(socket: SocketRef<A>, shared: Shared, room: String) {
    let interval = shared.limits.presence_interval;
    if interval.is_zero() {
        return;
    }
    let serial = {
        let mut windows = guard(&shared.windows);
        windows.serial += 1;
        let serial = windows.serial;
        windows.open.insert(room.clone(), (serial, None));
        serial
    };
    tokio::spawn(async move {
        tokio::time::sleep(interval).await;
        let queue = shared.queue.clone();
        queue.push(async move {
            let pending = {
                let mut windows = guard(&shared.windows);
                match windows.open.get(&room) {
                    Some((open, _)) if *open == serial => {
                        windows.open.remove(&room).and_then(|(_, pending)| pending)
                    }
                    // Closed by a leave, maybe opened again since: not this window's business.
                    _ => None,
                }
            };
            let member_still = socket.connected() && guard(&shared.joined).contains(&room);
            if let (Some(member), true) = (pending, member_still) {
                announce_update(&socket, &shared, &room, member).await;
            }
        });
    });
}

/// Whether a socket with this id is connected to the namespace, on any server instance.
async fn is_connected<A: Adapter>(socket: &SocketRef<A>, sid: Sid) -> Result<bool, JoinError> {
    let sockets = socket
        .broadcast()
        .fetch_sockets()
        .await
        .map_err(|_| JoinError::Unavailable)?;
    Ok(sockets.iter().any(|s| s.data().id == sid))
}

/// Handles `rtio:leave`; leaving a room one is not in is fine.
async fn leave<A: Adapter>(
    socket: &SocketRef<A>,
    shared: &Shared,
    args: EventArgs,
) -> Result<(), JoinError> {
    let room = room_arg(&args).ok_or(JoinError::InvalidRoom)?.to_owned();
    validate_room(&room)?;
    let was_member = guard(&shared.joined).remove(&room);
    leave_room(socket, shared, room, was_member).await;
    Ok(())
}

/// Leaves `room` and its meta rooms; tells the other members when `announce` (an update still
/// waiting is dropped: the member is gone).
async fn leave_room<A: Adapter>(
    socket: &SocketRef<A>,
    shared: &Shared,
    room: String,
    announce_it: bool,
) {
    guard(&shared.windows).open.remove(&room);
    let mut gone = own_meta_rooms(socket, &room);
    gone.push(room.clone());
    socket.leave(gone);
    if announce_it {
        announce(socket, &room, &Presence::Left(socket.id.to_string())).await;
    }
}

/// Handles `rtio:to`: relays `rtio:room` to the other members, if the sender is one.
async fn relay<A: Adapter>(socket: &SocketRef<A>, args: EventArgs) -> Result<(), RelayError> {
    let mut args = args.0.into_iter();
    let (Some(room), Some(Payload::Str(event))) = (args.next(), args.next()) else {
        return Err(RelayError::InvalidEvent);
    };
    let Payload::Str(room) = room else {
        return Err(RelayError::NotAMember);
    };
    if validate_room(&room).is_err() || !socket.rooms().iter().any(|r| *r == room) {
        return Err(RelayError::NotAMember);
    }
    let args: Vec<Payload> = args.collect();
    let from = socket.id.to_string();
    // The bridged clients get it as JSON, so not when it carries binary data.
    let json_args =
        bridge().and_then(|_| args.iter().map(payload_to_json).collect::<Option<Vec<_>>>());
    let mut out = Vec::with_capacity(args.len() + 3);
    out.push(Payload::Str(room.clone()));
    out.push(Payload::Str(event.clone()));
    out.push(Payload::Str(from.clone()));
    out.extend(args);
    let _ = socket
        .to(room.clone())
        .emit("rtio:room", &EventArgs(out))
        .await;
    if let (Some(bridge), Some(args)) = (bridge(), json_args) {
        bridge.message(&room, &event, &from, args);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn room_names() {
        assert_eq!(validate_room("doc:42"), Ok(()));
        assert_eq!(validate_room(""), Err(JoinError::InvalidRoom));
        assert_eq!(validate_room("rtio:x"), Err(JoinError::InvalidRoom));
        assert_eq!(
            validate_room("[\"rtio:meta\",\"a\"]"),
            Err(JoinError::InvalidRoom)
        );
        // Close to the reserved prefixes but not them.
        assert_eq!(validate_room("rtio"), Ok(()));
        assert_eq!(validate_room("[\"rtio\"]"), Ok(()));
        assert_eq!(validate_room(" rtio:x"), Ok(()));

        let limit = "r".repeat(MAX_ROOM_LEN);
        assert_eq!(validate_room(&limit), Ok(()));
        assert_eq!(
            validate_room(&format!("{limit}r")),
            Err(JoinError::InvalidRoom)
        );
        // UTF-16 code units, as JavaScript counts: é is one, an emoji two.
        assert_eq!(validate_room(&"é".repeat(MAX_ROOM_LEN)), Ok(()));
        assert_eq!(validate_room(&"😀".repeat(MAX_ROOM_LEN / 2)), Ok(()));
        assert_eq!(
            validate_room(&"😀".repeat(MAX_ROOM_LEN / 2 + 1)),
            Err(JoinError::InvalidRoom)
        );
    }

    #[test]
    fn socket_id_shaped_names() {
        assert!(looks_like_socket_id("AbCdEfGh_-123456").is_some());
        assert!(looks_like_socket_id("doc:42").is_none());
        assert!(looks_like_socket_id("AbCdEfGh_-12345").is_none());
        assert!(looks_like_socket_id("AbCdEfGh_-12345!").is_none());
    }

    #[test]
    fn meta_values() {
        assert_eq!(validate_meta(None), Ok(Value::Null));
        assert_eq!(validate_meta(Some(&Payload::Null)), Ok(Value::Null));
        let meta = Payload::Object(vec![
            ("name".into(), Payload::Str("Ada".into())),
            (
                "n".into(),
                Payload::Array(vec![
                    Payload::Int(-1),
                    Payload::Uint(2),
                    Payload::Float(0.5),
                ]),
            ),
        ]);
        assert_eq!(
            validate_meta(Some(&meta)),
            Ok(json!({"name": "Ada", "n": [-1, 2, 0.5]}))
        );

        let binary = Payload::Array(vec![Payload::Bin(vec![1, 2])]);
        assert_eq!(validate_meta(Some(&binary)), Err(JoinError::InvalidMeta));

        // `"` + 1022 characters + `"` is exactly the limit.
        let at_limit = Payload::Str("x".repeat(MAX_META_BYTES - 2));
        assert!(validate_meta(Some(&at_limit)).is_ok());
        let over = Payload::Str("x".repeat(MAX_META_BYTES - 1));
        assert_eq!(validate_meta(Some(&over)), Err(JoinError::MetaTooLarge));
        // Bytes, not characters.
        let wide = Payload::Str("é".repeat(MAX_META_BYTES / 2));
        assert_eq!(validate_meta(Some(&wide)), Err(JoinError::MetaTooLarge));
    }

    #[test]
    fn meta_room_round_trip() {
        let rooms = [
            "doc:42",
            "with \"quotes\" and \\ backslash",
            "ünïcödé 😀 房间",
            "line\nbreak\ttab",
            "[\"not-rtio\"]",
            ",",
        ];
        let metas = [
            Value::Null,
            json!({"name": "Bob \"B\"", "tags": ["x", 1]}),
            json!("é"),
        ];
        for room in rooms {
            for meta in &metas {
                let name = meta_room_name(room, "Xy1AbCdEfGh_-123", meta);
                assert!(name.starts_with(&meta_room_prefix(room)), "{name}");
                assert!(name.starts_with(RESERVED_JSON_PREFIX));
                assert_eq!(
                    parse_meta_room(&name),
                    Some((room.to_owned(), "Xy1AbCdEfGh_-123".to_owned(), meta.clone()))
                );
            }
        }
        assert_eq!(
            meta_room_name("doc:42", "Xy1", &json!({"name": "Ada"})),
            r#"["rtio:meta","doc:42","Xy1",{"name":"Ada"}]"#
        );
        assert_eq!(meta_room_prefix("a\"b"), r#"["rtio:meta","a\"b","#);
    }

    #[test]
    fn other_names_do_not_parse() {
        for name in [
            "doc:42",
            "[]",
            "[\"rtio:meta\"]",
            "[\"rtio:meta\",\"a\",\"b\"]",
            "[\"rtio:other\",\"a\",\"b\",null]",
            "[\"rtio:meta\",1,\"b\",null]",
            "[\"rtio:meta\",\"a\",\"b\",null",
        ] {
            assert_eq!(parse_meta_room(name), None, "{name}");
        }
    }

    #[test]
    fn members_come_from_the_exact_prefix() {
        let names = [
            "doc".to_owned(),
            meta_room_name("doc", "A", &json!({"n": 1})),
            meta_room_name("doc", "B", &Value::Null),
            // A room whose name extends "doc" must not leak into it.
            meta_room_name("doc\"", "C", &Value::Null),
            meta_room_name("docs", "D", &Value::Null),
            meta_room_name("other", "E", &Value::Null),
        ];
        let mut members = members_of("doc", names.iter().map(String::as_str));
        members.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(
            members,
            vec![
                Member {
                    id: "A".into(),
                    meta: json!({"n": 1})
                },
                Member {
                    id: "B".into(),
                    meta: Value::Null
                },
            ]
        );
        assert_eq!(
            members_of("doc\"", names.iter().map(String::as_str)).len(),
            1
        );
    }

    #[test]
    fn wire_shapes() {
        fn text<T: Serialize>(value: &T) -> String {
            serde_json::to_string(value).expect("serializable")
        }
        let member = Member {
            id: "Qz7".into(),
            meta: json!({"name": "Bob"}),
        };
        assert_eq!(
            text(&Presence::Joined(member.clone())),
            r#"{"joined":{"id":"Qz7","meta":{"name":"Bob"}}}"#
        );
        assert_eq!(
            text(&Presence::Updated(member.clone())),
            r#"{"updated":{"id":"Qz7","meta":{"name":"Bob"}}}"#
        );
        assert_eq!(text(&Presence::Left("Qz7".into())), r#"{"left":"Qz7"}"#);
        assert_eq!(
            text(&Reply::Joined {
                ok: true,
                members: vec![member]
            }),
            r#"{"ok":true,"members":[{"id":"Qz7","meta":{"name":"Bob"}}]}"#
        );
        assert_eq!(text(&Reply::Done { ok: true }), r#"{"ok":true}"#);
        assert_eq!(
            text(&Reply::refused(&JoinError::Refused(NOT_ALLOWED.into()))),
            r#"{"ok":false,"error":"not allowed"}"#
        );
        assert_eq!(JoinError::InvalidRoom.to_string(), "invalid room");
        assert_eq!(JoinError::MetaTooLarge.to_string(), "meta too large");
        assert_eq!(JoinError::RateLimited.to_string(), "rate limited");
        assert_eq!(JoinError::TooManyRooms.to_string(), "too many rooms");
        assert_eq!(JoinError::RoomFull.to_string(), "room full");
        assert_eq!(
            text(&Reply::refused(&RelayError::RateLimited)),
            r#"{"ok":false,"error":"rate limited"}"#
        );
        assert_eq!(RelayError::TooLarge.to_string(), "too large");
        assert_eq!(RelayError::NotAMember.to_string(), "not a member");
        assert_eq!(RelayError::InvalidEvent.to_string(), "invalid event");
    }

    #[test]
    fn limits_default_to_the_table_of_rooms_md() {
        let limits = Limits::default();
        assert_eq!(
            (limits.relays_per_second, limits.relay_burst),
            (200.0, 400.0)
        );
        assert_eq!((limits.joins_per_second, limits.join_burst), (10.0, 100.0));
        assert_eq!(
            (limits.rooms_per_socket, limits.members_per_room),
            (100, 1000)
        );
        assert_eq!(limits.relay_bytes, 16384);
        assert_eq!(limits.presence_interval, Duration::from_millis(100));
    }

    #[test]
    fn token_bucket_spends_its_burst_then_refills_at_its_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(10.0, 3.0);
        bucket.at = start;
        assert!((0..3).all(|_| bucket.take_at(start)));
        assert!(!bucket.take_at(start));
        // A tenth of a second gives one token back, and no more than the burst ever.
        assert!(bucket.take_at(start + Duration::from_millis(100)));
        assert!(!bucket.take_at(start + Duration::from_millis(100)));
        let later = start + Duration::from_secs(60);
        assert_eq!((0..10).filter(|_| bucket.take_at(later)).count(), 3);
        // A clock that goes back gives nothing.
        assert!(!bucket.take_at(start));
        let mut open = TokenBucket::new(f64::INFINITY, 1.0);
        assert!((0..10_000).all(|_| open.take()));
    }

    #[test]
    fn relay_size_is_the_json_length_binary_by_its_bytes() {
        let args = vec![
            Payload::Object(vec![
                ("x".into(), Payload::Float(0.25)),
                ("y".into(), Payload::Int(-3)),
                ("name".into(), Payload::Str("Ad\"a ü \n".into())),
            ]),
            Payload::Array(vec![
                Payload::Null,
                Payload::Bool(true),
                Payload::Bool(false),
                Payload::Uint(u64::MAX),
            ]),
            Payload::Array(vec![]),
            Payload::Object(vec![]),
        ];
        let json = serde_json::to_string(&json!([
            "cursor",
            {"x": 0.25, "y": -3, "name": "Ad\"a ü \n"},
            [null, true, false, u64::MAX],
            [],
            {}
        ]))
        .expect("serializable");
        assert_eq!(relay_size("cursor", &args), json.len());
        assert_eq!(relay_size("e", &[]), r#"["e"]"#.len());
        // As JSON.stringify with the binary part replaced by null, plus its bytes.
        assert_eq!(
            relay_size("blob", &[Payload::Bin(vec![0; 1000])]),
            r#"["blob",null]"#.len() + 1000
        );
    }
}

//! The test-server protocol shared with the Node socket.io server
//! (`tests/servers/PROTOCOL.md`), so every browser test runs against both.
//!
//! Namespace `/` (plus the demo chat, see [`crate::chat`]):
//!
//! | client emits                 | server does                                                         |
//! |------------------------------|---------------------------------------------------------------------|
//! | `whoami` (ack)               | acks `{ id, auth }`; `auth` is the CONNECT payload, `null` if none  |
//! | `echo` (...args, ack)        | acks with the same args, binary attachments included                |
//! | `emit-back` (event, ...args) | emits `event` with `args` to this socket                            |
//! | `record` (...args)           | appends `args` to this socket's record                              |
//! | `recorded` (ack)             | acks the record: an array of arrays, oldest first                   |
//! | `ask` (event, ...args)       | emits `event` with an ack request; the reply comes back as `answer` |
//! | `emit-to` (sid, event, ...)  | emits `event` with the rest to socket `sid` of `/`, if connected    |
//! | `kick`                       | `socket.disconnect()`: the client sees `io server disconnect`       |
//! | `tally` (key, ack)           | counts `key` server-wide (all sockets), acks the new count          |
//! | anything else                | nothing; a requested ack never comes                                |
//!
//! Incoming arguments are read with [`EventArgs`]'s own extractor, so any JSON
//! with binary attachments round-trips. The reply to `ask` is the exception:
//! socketioxide decodes ack replies itself, and in 0.18.9 it drops a reply
//! with an object key containing a JSON escape (`"`, `\`, a control
//! character), so no `answer` follows. The server waits for that reply for
//! `ACK_TIMEOUT` (see `main.rs`).
//!
//! Namespaces `/second` and [`LONG_NAMESPACE`]: `whoami`, `echo` and `kick` as on `/`.
//!
//! Namespace `/forbidden`: a connect middleware rejects every socket, so the
//! client receives CONNECT_ERROR `{"message":"forbidden namespace"}`.
//!
//! # Why the handlers do their work before returning a future
//!
//! socketioxide runs every connect and message handler by calling it and
//! `tokio::spawn`ing the future it returns, so work done *inside* the future of
//! two consecutive events may run in either order on a multi-threaded runtime.
//! The closure body itself runs in the task that reads the connection, in
//! packet order. So the handlers below register, record, emit and ack in the
//! closure body and return [`std::future::ready`]; only `ask` keeps a future,
//! to wait for the client's reply.
//!
//! # Why the message handlers are registered by a connect middleware
//!
//! socketioxide 0.18.9 sends CONNECT, then calls the connect handler, in a task
//! of its own, while another task goes on reading the connection. A client that
//! emits as soon as it sees CONNECT can have that event read before the handler
//! has registered its listener, and the event is dropped: no handler, no ack.
//! A loaded machine widens that window. The middlewares run (and are awaited)
//! before CONNECT is sent, so they register everything, and the connect
//! handler itself has nothing left to do.

use std::convert::Infallible;
use std::fmt;
use std::future::{ready, Future, Ready};
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::handler::{ConnectHandler, FromConnectParts, Value};
use socketioxide::socket::Socket;
use socketioxide::SocketIo;
use socketioxide_core::adapter::DefinedAdapter;

use crate::payload::EventArgs;
use crate::{chaos, chat, origin, rooms, sessions};

/// A namespace whose packet headers are longer than 64 characters.
pub const LONG_NAMESPACE: &str =
    "/a-namespace-with-a-name-long-enough-to-push-the-packet-header-past-64-characters";

/// Registers the namespaces `/`, `/second`, [`LONG_NAMESPACE`] and `/forbidden`.
///
/// Returns the adapter's initialization of each namespace: nothing to wait for with the
/// default in-memory adapter (`()`), a future to await with a remote one such as Redis
/// (the namespace exists once it resolves).
pub fn register<A: Adapter + DefinedAdapter>(io: &SocketIo<A>) -> Vec<A::InitRes> {
    vec![
        // The last middleware given runs first: the origin check, then the session, before
        // anything is set up.
        io.ns(
            "/",
            connected
                .with(register_main::<A>)
                .with(check_session::<A>)
                .with(check_origin::<A>),
        ),
        io.ns(
            "/second",
            connected
                .with(register_second::<A>)
                .with(check_session::<A>)
                .with(check_origin::<A>),
        ),
        io.ns(
            LONG_NAMESPACE,
            connected
                .with(register_second::<A>)
                .with(check_session::<A>)
                .with(check_origin::<A>),
        ),
        io.ns(
            "/forbidden",
            on_forbidden_connect
                .with(reject_namespace)
                .with(check_session::<A>)
                .with(check_origin::<A>),
        ),
    ]
}

/// The auth payload of the CONNECT packet as JSON, `None` when the packet had none.
///
/// socketioxide's own `Data`/`TryData` extractors deserialize a missing payload
/// as `{}`; the protocol reports `null` for it, so this extractor looks at the
/// raw payload first. A payload that is not valid JSON is treated as missing.
pub struct HandshakeAuth(pub Option<serde_json::Value>);

impl<A: Adapter> FromConnectParts<A> for HandshakeAuth {
    type Error = Infallible;

    fn from_connect_parts(s: &Arc<Socket<A>>, auth: &Option<Value>) -> Result<Self, Infallible> {
        let parsed = match auth {
            None => None,
            Some(_) => Data::<serde_json::Value>::from_connect_parts(s, auth)
                .ok()
                .map(|Data(value)| value),
        };
        Ok(HandshakeAuth(parsed))
    }
}

/// Refuses a socket whose page's origin is not allowed ([`origin`]): its CONNECT_ERROR says
/// "origin not allowed".
fn check_origin<A: Adapter>(socket: SocketRef<A>) -> Ready<Result<(), origin::OriginRefused>> {
    match origin::refused(&socket.req_parts().headers) {
        None => ready(Ok(())),
        Some(from) => {
            origin::log_refusal("a Socket.IO connection", &from);
            ready(Err(origin::OriginRefused))
        }
    }
}

/// Refuses a socket without a valid session cookie when sessions are on ([`sessions`]): its
/// CONNECT_ERROR says so.
fn check_session<A: Adapter>(socket: SocketRef<A>) -> Ready<Result<(), sessions::SessionRequired>> {
    match sessions::of(&socket.req_parts().headers) {
        Ok(_) => ready(Ok(())),
        Err(refused) => {
            sessions::log_refusal("a Socket.IO connection");
            ready(Err(refused))
        }
    }
}

/// The `whoami` acknowledgement.
#[derive(Serialize)]
struct WhoAmI<'a> {
    id: String,
    auth: &'a Option<serde_json::Value>,
}

/// The connect handler of `/`, `/second` and [`LONG_NAMESPACE`]: everything is set up by the
/// middlewares below, before the client is told it is connected.
fn connected() -> Ready<()> {
    ready(())
}

/// What a socket of a namespace may do, set up before its CONNECT is sent.
type Setup = Ready<Result<(), Infallible>>;

fn register_main<A: Adapter>(socket: SocketRef<A>, HandshakeAuth(auth): HandshakeAuth) -> Setup {
    chaos::register(&socket, &auth);
    register_common(&socket, auth);

    socket.on("emit-back", on_emit_back::<A>);

    let record = Arc::new(Mutex::new(Vec::<EventArgs>::new()));
    let log = Arc::clone(&record);
    socket.on("record", move |args: EventArgs| {
        log.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(args);
        ready(())
    });
    socket.on("recorded", move |ack: AckSender<A>| {
        let snapshot = record
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        // A `Vec` is one argument: the whole record arrives as a single array.
        let _ = ack.send(&snapshot);
        ready(())
    });

    socket.on("ask", on_ask::<A>);
    socket.on("emit-to", on_emit_to::<A>);
    socket.on("tally", on_tally::<A>);

    chat::register(&socket);
    rooms::register(&socket, rooms::demo_authorize::<A>);
    ready(Ok(()))
}

fn register_second<A: Adapter>(socket: SocketRef<A>, HandshakeAuth(auth): HandshakeAuth) -> Setup {
    register_common(&socket, auth);
    ready(Ok(()))
}

/// `whoami`, `echo` and `kick`, shared by `/` and `/second`.
fn register_common<A: Adapter>(socket: &SocketRef<A>, auth: Option<serde_json::Value>) {
    let auth = Arc::new(auth);
    socket.on("whoami", move |socket: SocketRef<A>, ack: AckSender<A>| {
        let _ = ack.send(&WhoAmI {
            id: socket.id.to_string(),
            auth: &auth,
        });
        ready(())
    });
    socket.on("echo", on_echo::<A>);
    socket.on("kick", on_kick::<A>);
}

/// How many times each `tally` key arrived, over every socket of the process.
static TALLY: Mutex<std::collections::BTreeMap<String, u64>> =
    Mutex::new(std::collections::BTreeMap::new());

fn on_tally<A: Adapter>(Data(key): Data<String>, ack: AckSender<A>) -> Ready<()> {
    let count = {
        let mut tally = TALLY.lock().unwrap_or_else(PoisonError::into_inner);
        let n = tally.entry(key).or_insert(0);
        *n += 1;
        *n
    };
    let _ = ack.send(&count);
    ready(())
}

fn on_echo<A: Adapter>(args: EventArgs, ack: AckSender<A>) -> Ready<()> {
    let _ = ack.send(&args);
    ready(())
}

fn on_emit_back<A: Adapter>(socket: SocketRef<A>, args: EventArgs) -> Ready<()> {
    if let Some((event, rest)) = args.into_event_and_rest() {
        let _ = socket.emit(event, &rest);
    }
    ready(())
}

fn on_emit_to<A: Adapter>(io: SocketIo<A>, args: EventArgs) -> Ready<()> {
    let target = args.into_event_and_rest().and_then(|(sid, rest)| {
        let sid = sid.parse().ok()?;
        let (event, rest) = rest.into_event_and_rest()?;
        Some((io.get_socket(sid)?, event, rest))
    });
    if let Some((socket, event, rest)) = target {
        let _ = socket.emit(event, &rest);
    }
    ready(())
}

fn on_ask<A: Adapter>(socket: SocketRef<A>, args: EventArgs) -> impl Future<Output = ()> {
    let reply = args
        .into_event_and_rest()
        .and_then(|(event, rest)| socket.emit_with_ack::<_, EventArgs>(event, &rest).ok());
    async move {
        let Some(pending) = reply else { return };
        // A timeout, or a client that never acks, ends here without an `answer`.
        if let Ok(reply) = pending.await {
            let _ = socket.emit("answer", &reply);
        }
    }
}

/// `kick`. socketioxide 0.18.9 gives a socket the id of its Engine.IO connection and ignores a
/// CONNECT for a namespace that still holds a socket of that id: one that has a disconnect
/// handler (on `/`, the rooms' one) stays there until the handler's future has ended, so a
/// client that connects again at once, from its disconnect listener, may never be answered.
/// On `/second` no handler holds it: it is removed in the same call that sends the DISCONNECT.
fn on_kick<A: Adapter>(socket: SocketRef<A>) -> Ready<()> {
    let _ = socket.disconnect();
    ready(())
}

/// Never runs: the middleware rejects every socket first.
fn on_forbidden_connect() -> Ready<()> {
    ready(())
}

/// Why `/forbidden` refuses a socket; its `Display` text is the CONNECT_ERROR message.
#[derive(Debug)]
struct ForbiddenNamespace;

impl fmt::Display for ForbiddenNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("forbidden namespace")
    }
}

async fn reject_namespace() -> Result<(), ForbiddenNamespace> {
    Err(ForbiddenNamespace)
}

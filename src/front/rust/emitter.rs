//! The emitter core that [`Socket`](crate::Socket), [`Room`](crate::Room) and the stream
//! clients ([`Sse`](crate::sse::Sse), [`Ws`](crate::ws::Ws)) are built from:
//!
//! - [`Registry`]: listeners in registration order, callable while they add or remove
//!   listeners; [`Emitter`] over it, with event, catch-all and the handle's own kinds of
//!   listener, and [`typed`] event handlers that read the arguments with serde;
//! - [`Subscription`]: the guard that removes a listener when dropped;
//! - [`Reply`]: a one-shot reply on a `futures` oneshot channel, and over it [`AckFuture`] (with
//!   its timeout on the shell's gloo-timers timer) and [`AckSender`];
//! - the names a handle keeps for its own events ([`RESERVED`], [`lifecycle`]).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_channel::oneshot;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::payload::{self, erased::Arg};
use crate::shell::timer::Timer;

/// Names an `emit` may not use, nor a server event: the connection's own events, as
/// socket.io-client keeps them.
pub(crate) const RESERVED: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Whether a server event named `name` must be dropped by a stream client: a lifecycle name
/// of the client (the ones `emit` refuses, and those of the JS door: `error`, `reconnect*`),
/// which a server must not fake.
pub(crate) fn lifecycle(name: &str) -> bool {
    RESERVED.contains(&name)
        || matches!(
            name,
            "error" | "reconnect" | "reconnect_attempt" | "reconnect_failed"
        )
}

/// `d` in whole milliseconds.
pub(crate) fn ms(d: Duration) -> u64 {
    d.as_millis().min(u128::from(u64::MAX)) as u64
}

/// A warning on the console (a payload that did not deserialize, a malformed packet).
pub(crate) fn warn(message: &str) {
    if crate::shell::BROWSER {
        web_sys::console::warn_1(&message.into());
    }
}

// ---------------------------------------------------------------------------------------------
// Listeners

struct Entry<H> {
    id: u64,
    once: bool,
    /// The event name the listener is for, if any.
    key: Option<Rc<str>>,
    handler: Rc<RefCell<H>>,
}

/// Listeners in registration order, each with an id to remove it by.
pub(crate) struct Registry<H> {
    list: RefCell<Vec<Entry<H>>>,
    next: Cell<u64>,
}

impl<H> Default for Registry<H> {
    fn default() -> Self {
        Registry {
            list: RefCell::new(Vec::new()),
            next: Cell::new(0),
        }
    }
}

impl<H> Registry<H> {
    /// Adds a listener (for the event `key`, if any); returns its id.
    pub fn add(&self, once: bool, key: Option<&str>, handler: H) -> u64 {
        let id = self.next.get();
        self.next.set(id + 1);
        self.list.borrow_mut().push(Entry {
            id,
            once,
            key: key.map(Rc::from),
            handler: Rc::new(RefCell::new(handler)),
        });
        id
    }

    /// How many listeners there are.
    pub fn len(&self) -> usize {
        self.list.borrow().len()
    }

    /// Removes listener `id`; returns the event name it was for, if any.
    pub fn remove(&self, id: u64) -> Option<Rc<str>> {
        let mut list = self.list.try_borrow_mut().ok()?;
        let at = list.iter().position(|e| e.id == id)?;
        list.remove(at).key
    }

    /// Removes every listener of the event `key`.
    pub fn remove_key(&self, key: &str) {
        if let Ok(mut list) = self.list.try_borrow_mut() {
            list.retain(|e| e.key.as_deref() != Some(key));
        }
    }

    /// Removes every listener.
    pub fn clear(&self) {
        if let Ok(mut list) = self.list.try_borrow_mut() {
            list.clear();
        }
    }

    /// Whether some listener is for the event `key`.
    pub fn has_key(&self, key: &str) -> bool {
        self.list
            .borrow()
            .iter()
            .any(|e| e.key.as_deref() == Some(key))
    }

    /// The distinct event names listened to, in registration order.
    pub fn keys(&self) -> Vec<Rc<str>> {
        let mut keys: Vec<Rc<str>> = Vec::new();
        for e in self.list.borrow().iter() {
            if let Some(k) = &e.key {
                if !keys.iter().any(|have| have == k) {
                    keys.push(k.clone());
                }
            }
        }
        keys
    }

    /// Calls `f` on every listener (with the event name it is for, if any), in registration
    /// order, with no borrow of the list held, so listeners may add or remove listeners. `f`
    /// returns whether the listener took the call; a `once` listener that did is removed. A
    /// listener removed by an earlier one in the same round is skipped, and one busy further up
    /// the stack (a listener whose code made this call happen) is not called again.
    pub fn call(&self, mut f: impl FnMut(Option<&str>, &mut H) -> bool) {
        type Snapshot<H> = Vec<(u64, bool, Option<Rc<str>>, Rc<RefCell<H>>)>;
        let snapshot: Snapshot<H> = self
            .list
            .borrow()
            .iter()
            .map(|e| (e.id, e.once, e.key.clone(), e.handler.clone()))
            .collect();
        for (id, once, key, handler) in snapshot {
            if !self.list.borrow().iter().any(|e| e.id == id) {
                continue;
            }
            let Ok(mut h) = handler.try_borrow_mut() else {
                continue;
            };
            if f(key.as_deref(), &mut h) && once {
                self.list.borrow_mut().retain(|e| e.id != id);
            }
        }
    }
}

/// What holds listeners that a [`Subscription`] removes: a socket, a room, a stream client.
pub(crate) trait Listeners {
    fn remove(&self, id: u64);
}

/// A registered listener; dropping it removes the listener.
#[must_use = "the listener is removed when the Subscription is dropped"]
pub struct Subscription {
    owner: Weak<dyn Listeners>,
    id: u64,
}

impl Subscription {
    pub(crate) fn new(owner: Weak<dyn Listeners>, id: u64) -> Self {
        Subscription { owner, id }
    }

    /// Keeps the listener for its owner's whole life (until `off`, or until a room is left).
    pub fn keep(mut self) {
        self.owner = Weak::<Nobody>::new();
    }
}

/// The owner of a kept subscription: nobody.
struct Nobody;

impl Listeners for Nobody {
    fn remove(&self, _: u64) {}
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(s) = self.owner.upgrade() {
            s.remove(self.id);
        }
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .finish()
    }
}

/// A listener: for one event (the registry holds its name), for every event, or one of the
/// handle's own kinds `K` (connection state, presence, raw messages). An event listener gets the
/// arguments and what the handle adds to them, `X` (an ack sender, the sender, the raw text),
/// and returns whether it took them (a `once` listener stays until one does).
pub(crate) enum Handler<X, K> {
    Event(Box<EventFn<X>>),
    Any(Box<AnyFn>),
    Own(K),
}

/// An event listener: the arguments and what the handle adds; whether it took them.
pub(crate) type EventFn<X> = dyn FnMut(&[Value], &X) -> bool;
/// A catch-all listener: the event's name and arguments.
pub(crate) type AnyFn = dyn FnMut(&str, &[Value]);

/// The listeners of one handle.
pub(crate) struct Emitter<X, K> {
    registry: Registry<Handler<X, K>>,
}

impl<X, K> Default for Emitter<X, K> {
    fn default() -> Self {
        Emitter {
            registry: Registry::default(),
        }
    }
}

impl<X, K> Emitter<X, K> {
    /// Adds a listener of `owner` (for the event `key`, if any).
    pub fn add(
        &self,
        owner: Weak<dyn Listeners>,
        once: bool,
        key: Option<&str>,
        handler: Handler<X, K>,
    ) -> Subscription {
        Subscription::new(owner, self.registry.add(once, key, handler))
    }

    /// Calls the listeners of event `name` and the catch-alls, in registration order.
    pub fn event(&self, name: &str, args: &[Value], extra: &X) {
        self.registry.call(|key, h| match h {
            Handler::Event(f) if key == Some(name) => f(args, extra),
            Handler::Any(f) => {
                f(name, args);
                true
            }
            _ => false,
        });
    }

    /// Calls the listeners of the handle's own kinds; `f` returns whether one took the call.
    pub fn own(&self, mut f: impl FnMut(&mut K) -> bool) {
        self.registry.call(|_, h| match h {
            Handler::Own(k) => f(k),
            _ => false,
        });
    }

    /// The registry, for counting, removing and listing.
    pub fn registry(&self) -> &Registry<Handler<X, K>> {
        &self.registry
    }
}

/// An event handler that reads the arguments as `T` (see [`payload::from_args`]) and calls `f`
/// with them; arguments that do not read are skipped with a console warning naming `what`.
pub(crate) fn typed<T, X, K>(
    what: &'static str,
    event: &str,
    mut f: impl FnMut(T, &X) + 'static,
) -> Handler<X, K>
where
    T: DeserializeOwned,
{
    let label: Rc<str> = Rc::from(event);
    Handler::Event(Box::new(move |args, extra| {
        match payload::from_args::<T>(args) {
            Ok(v) => {
                f(v, extra);
                true
            }
            Err(e) => {
                warn(&format!("rtio: {what}\"{label}\" payload ignored: {e}"));
                false
            }
        }
    }))
}

// ---------------------------------------------------------------------------------------------
// Replies

/// A one-shot reply shared by whoever completes it and the future that waits on it, on a
/// `futures` oneshot channel. The first [`complete`](Reply::complete) wins.
pub(crate) struct Reply<T> {
    state: Rc<RefCell<ReplyState<T>>>,
}

struct ReplyState<T> {
    /// Taken by the first `complete`.
    tx: Option<oneshot::Sender<T>>,
    /// Taken once the reply was read.
    rx: Option<oneshot::Receiver<T>>,
}

impl<T> Clone for Reply<T> {
    fn clone(&self) -> Self {
        Reply {
            state: self.state.clone(),
        }
    }
}

impl<T> Default for Reply<T> {
    fn default() -> Self {
        let (tx, rx) = oneshot::channel();
        Reply {
            state: Rc::new(RefCell::new(ReplyState {
                tx: Some(tx),
                rx: Some(rx),
            })),
        }
    }
}

impl<T> Reply<T> {
    /// Gives the reply, unless one was given already; returns whether this one was taken.
    pub fn complete(&self, value: T) -> bool {
        let tx = match self.state.try_borrow_mut() {
            Ok(mut st) => st.tx.take(),
            Err(_) => None,
        };
        match tx {
            // (Nobody may be waiting any more: the reply is taken all the same.)
            Some(tx) => {
                let _ = tx.send(value);
                true
            }
            None => false,
        }
    }

    /// Whether a reply was given.
    pub fn is_done(&self) -> bool {
        self.state.try_borrow().map_or(true, |st| st.tx.is_none())
    }

    /// The reply, once given (once: it is taken).
    pub fn poll(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let Ok(mut st) = self.state.try_borrow_mut() else {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        };
        let Some(rx) = st.rx.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(rx).poll(cx) {
            Poll::Ready(r) => {
                st.rx = None;
                Poll::Ready(r.ok())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The errors an ack can end with, whatever the handle: the error types of the Socket.IO
/// socket and of the stream clients.
pub trait AckFailure: Sized + 'static {
    #[doc(hidden)]
    fn timeout() -> Self;
    #[doc(hidden)]
    fn disconnected() -> Self;
    #[doc(hidden)]
    fn decode(why: String) -> Self;
}

/// The arguments an ack brings, or why none came.
pub(crate) type AckReply<E> = Reply<Result<Vec<Value>, E>>;

/// What an [`AckFuture`] tells the handle that sent its request.
pub(crate) trait AckOwner {
    /// Asks the handle to time the ack out after `timeout`; false if the future must do it.
    fn time_out(&self, id: u64, timeout: Duration) -> bool;
    /// Nobody waits for ack `id` any more.
    fn forget(&self, id: u64);
}

/// The pending acknowledgement of an `emit_with_ack`: resolves to its arguments read as `R`
/// (one as itself, several as a tuple). Dropping it stops waiting.
#[must_use = "the acknowledgement is only received when the future is awaited"]
pub struct AckFuture<R, E: AckFailure = crate::AckError> {
    reply: AckReply<E>,
    /// The handle that waits for the ack, and the request's id.
    owner: Option<(Weak<dyn AckOwner>, u64)>,
    deadline: Option<Timer>,
    _reply: PhantomData<fn() -> R>,
}

impl<R, E: AckFailure> AckFuture<R, E> {
    pub(crate) fn new(reply: AckReply<E>, owner: Option<(Weak<dyn AckOwner>, u64)>) -> Self {
        AckFuture {
            reply,
            owner,
            deadline: None,
            _reply: PhantomData,
        }
    }

    /// Fails with a timeout if no acknowledgement arrives within `timeout` from now.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        if self.reply.is_done() {
            return self;
        }
        if let Some((owner, id)) = &self.owner {
            if owner.upgrade().is_some_and(|o| o.time_out(*id, timeout)) {
                return self;
            }
        }
        let reply = self.reply.clone();
        let mut timer = Timer::new(
            move || {
                reply.complete(Err(E::timeout()));
            },
            None,
        );
        let mut last = 0;
        let now = crate::shell::clock::now(&mut last);
        timer.arm(now.saturating_add(ms(timeout)), now);
        self.deadline = Some(timer);
        self
    }
}

impl<R: DeserializeOwned, E: AckFailure> Future for AckFuture<R, E> {
    type Output = Result<R, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.reply.poll(cx) {
            Poll::Ready(Some(Ok(args))) => {
                Poll::Ready(payload::from_args(&args).map_err(E::decode))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Err(e)),
            Poll::Ready(None) => Poll::Ready(Err(E::disconnected())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<R, E: AckFailure> Unpin for AckFuture<R, E> {}

impl<R, E: AckFailure> Drop for AckFuture<R, E> {
    fn drop(&mut self) {
        if let Some((owner, id)) = &self.owner {
            if let Some(o) = owner.upgrade() {
                o.forget(*id);
            }
        }
    }
}

impl<R, E: AckFailure> std::fmt::Debug for AckFuture<R, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckFuture")
            .field("done", &self.reply.is_done())
            .finish_non_exhaustive()
    }
}

/// What answers a request: the handle it came on.
pub(crate) trait Answer<E> {
    /// Sends the answer `args` to request `id`, received on connection `generation`.
    fn answer(self: Rc<Self>, id: u64, generation: u64, args: &[&dyn Arg]) -> Result<(), E>;
}

/// Answers an event the server sent asking for an acknowledgement. The server expects one
/// answer: sending consumes it, and of clones only the first answer goes.
pub struct AckSender<E = crate::EmitError> {
    owner: Weak<dyn Answer<E>>,
    id: u64,
    generation: u64,
    used: Rc<Cell<bool>>,
}

impl<E> Clone for AckSender<E> {
    fn clone(&self) -> Self {
        AckSender {
            owner: self.owner.clone(),
            id: self.id,
            generation: self.generation,
            used: self.used.clone(),
        }
    }
}

impl<E> std::fmt::Debug for AckSender<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckSender").field("id", &self.id).finish()
    }
}

impl<E> AckSender<E> {
    pub(crate) fn new(owner: Weak<dyn Answer<E>>, id: u64, generation: u64) -> Self {
        AckSender {
            owner,
            id,
            generation,
            used: Rc::new(Cell::new(false)),
        }
    }

    /// Sends the acknowledgement with one argument.
    pub fn send<T: Serialize + ?Sized>(self, reply: &T) -> Result<(), E> {
        self.send_args(&[&reply])
    }

    /// Sends the acknowledgement with any number of arguments (none included).
    pub fn send_args(self, args: &[&dyn Arg]) -> Result<(), E> {
        let Some(owner) = self.owner.upgrade() else {
            return Ok(());
        };
        if self.used.replace(true) {
            return Ok(());
        }
        owner.answer(self.id, self.generation, args)
    }
}

//! Plumbing of the Rust front door: a list of listeners that may change while it is being
//! called ([`Registry`], for the SSE and plain-WebSocket modes), and a one-shot reply a future
//! waits on ([`Reply`], on a `futures` oneshot channel: acks, `wait_connected`).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_channel::oneshot;

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

    /// Calls `f` on every listener, in registration order, with no borrow of the list held,
    /// so listeners may add or remove listeners. `f` returns whether the listener took the
    /// call; a `once` listener that did is removed. A listener removed by an earlier one in
    /// the same round is skipped, and one busy further up the stack (a listener whose code
    /// made this call happen) is not called again.
    pub fn call(&self, mut f: impl FnMut(&mut H) -> bool) {
        let snapshot: Vec<(u64, bool, Rc<RefCell<H>>)> = self
            .list
            .borrow()
            .iter()
            .map(|e| (e.id, e.once, e.handler.clone()))
            .collect();
        for (id, once, handler) in snapshot {
            if !self.list.borrow().iter().any(|e| e.id == id) {
                continue;
            }
            let Ok(mut h) = handler.try_borrow_mut() else {
                continue;
            };
            if f(&mut h) && once {
                self.list.borrow_mut().retain(|e| e.id != id);
            }
        }
    }
}

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

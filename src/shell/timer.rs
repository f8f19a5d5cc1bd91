//! A re-armable one-shot timer on gloo-timers' `Timeout` (`setTimeout`), calling the same
//! function each time it fires.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;

use crate::session::Millis;

/// The longest delay `setTimeout` takes (a longer one would fire at once); a later deadline is
/// met by firing early, finding nothing due, and arming again.
const LONGEST: Millis = i32::MAX as Millis;

/// A one-shot timer. Dropping it cancels the pending timeout.
#[must_use = "dropping a Timer cancels it"]
pub(crate) struct Timer {
    callback: Rc<RefCell<dyn FnMut()>>,
    pending: Option<(Timeout, Millis)>,
}

impl Timer {
    /// A disarmed timer that calls `f` when it fires.
    pub fn new(f: impl FnMut() + 'static) -> Timer {
        Timer {
            callback: Rc::new(RefCell::new(f)),
            pending: None,
        }
    }

    /// When the timer fires next, if armed.
    pub fn armed_at(&self) -> Option<Millis> {
        self.pending.as_ref().map(|(_, at)| *at)
    }

    /// Fires at `at` (clock time), replacing any earlier arming.
    pub fn arm(&mut self, at: Millis, now: Millis) {
        self.disarm();
        let callback = Rc::clone(&self.callback);
        let delay = at.saturating_sub(now).min(LONGEST) as u32;
        let timeout = Timeout::new(delay, move || {
            // A timer armed again from its own callback is a new Timeout: no re-entry here.
            if let Ok(mut f) = callback.try_borrow_mut() {
                f();
            }
        });
        self.pending = Some((timeout, at));
    }

    /// Cancels the pending timeout, if any (dropping a `Timeout` clears it).
    pub fn disarm(&mut self) {
        self.pending = None;
    }

    /// Notes that the timeout fired. Its `Timeout` goes: clearing a fired timeout does nothing,
    /// and wasm-bindgen frees a closure dropped while it runs once it returns.
    pub fn fired(&mut self) {
        self.pending = None;
    }
}

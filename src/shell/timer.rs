//! A re-armable one-shot timer calling the same function each time it fires: gloo-timers'
//! `Timeout` (the page's `setTimeout` as it is when armed, so fake timers installed later are
//! followed), or, for the npm package's `useNativeTimers`, the `setTimeout` and
//! `clearTimeout` the package saw when it was imported.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use js_sys::Function;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsValue;

use crate::session::Millis;

/// The longest delay `setTimeout` takes (a longer one would fire at once); a later deadline is
/// met by firing early, finding nothing due, and arming again.
const LONGEST: Millis = i32::MAX as Millis;

/// A pair of JS functions `setTimeout` and `clearTimeout` to use instead of the page's.
pub(crate) type TimerFunctions = (Function, Function);

/// An armed timeout.
enum Pending {
    Gloo(#[allow(dead_code)] Timeout),
    /// The id `setTimeout` gave, to clear it.
    Native(JsValue),
}

/// A one-shot timer. Dropping it cancels the pending timeout.
#[must_use = "dropping a Timer cancels it"]
pub(crate) struct Timer {
    callback: Rc<RefCell<dyn FnMut()>>,
    native: Option<(TimerFunctions, Closure<dyn FnMut()>)>,
    pending: Option<(Pending, Millis)>,
}

impl Timer {
    /// A disarmed timer that calls `f` when it fires, on gloo-timers or on `native`.
    pub fn new(f: impl FnMut() + 'static, native: Option<TimerFunctions>) -> Timer {
        let callback: Rc<RefCell<dyn FnMut()>> = Rc::new(RefCell::new(f));
        let native = native.map(|fns| {
            let callback = Rc::clone(&callback);
            (fns, Closure::new(move || fire(&callback)))
        });
        Timer {
            callback,
            native,
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
        if !super::BROWSER {
            return;
        }
        let delay = at.saturating_sub(now).min(LONGEST) as u32;
        let pending = match &self.native {
            Some(((set, _), f)) => Pending::Native(
                set.call2(&JsValue::UNDEFINED, f.as_ref(), &delay.into())
                    .unwrap_or(JsValue::UNDEFINED),
            ),
            None => {
                let callback = Rc::clone(&self.callback);
                // A timer armed again from its own callback is a new Timeout: no re-entry here.
                Pending::Gloo(Timeout::new(delay, move || fire(&callback)))
            }
        };
        self.pending = Some((pending, at));
    }

    /// Cancels the pending timeout, if any (dropping a `Timeout` clears it).
    pub fn disarm(&mut self) {
        if let (Some((Pending::Native(id), _)), Some(((_, clear), _))) =
            (self.pending.take(), &self.native)
        {
            let _ = clear.call1(&JsValue::UNDEFINED, &id);
        }
    }

    /// Notes that the timeout fired. Its `Timeout` goes: clearing a fired timeout does nothing,
    /// and wasm-bindgen frees a closure dropped while it runs once it returns.
    pub fn fired(&mut self) {
        self.pending = None;
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.disarm();
    }
}

fn fire(callback: &RefCell<dyn FnMut()>) {
    if let Ok(mut f) = callback.try_borrow_mut() {
        f();
    }
}

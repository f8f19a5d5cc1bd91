//! A re-armable one-shot timer on `setTimeout`, with one closure for its whole life.

use wasm_bindgen::prelude::*;

use crate::session::Millis;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &JsValue, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// A one-shot timer. Dropping it cancels the pending timeout and frees the closure.
#[must_use = "dropping a Timer cancels it"]
pub(crate) struct Timer {
    callback: Closure<dyn FnMut()>,
    pending: Option<(JsValue, Millis)>,
}

impl Timer {
    /// A disarmed timer that calls `f` when it fires.
    pub fn new(f: impl FnMut() + 'static) -> Timer {
        Timer {
            callback: Closure::new(f),
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
        let id = set_timeout(self.callback.as_ref(), at.saturating_sub(now) as f64);
        self.pending = Some((id, at));
    }

    /// Cancels the pending timeout, if any.
    pub fn disarm(&mut self) {
        if let Some((id, _)) = self.pending.take() {
            clear_timeout(&id);
        }
    }

    /// Notes that the timeout fired (so no `clearTimeout` is needed).
    pub fn fired(&mut self) {
        self.pending = None;
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.disarm();
    }
}

//! What the two npm wasms export alike: the failure handler (a panic is a trap: the facade
//! starts a fresh module) and [`Delay`], the one-shot timer of the facade's ack timeouts.

use std::cell::RefCell;

use gloo_timers::callback::Timeout;
use js_sys::Function;
use wasm_bindgen::prelude::*;

thread_local! {
    /// What JS asked to be called when this module fails (a panic, which then traps).
    static ON_FAILURE: RefCell<Option<Function>> = const { RefCell::new(None) };
}

/// Sets the function called (with the panic's message) when this module fails: a panic (a
/// bug: no input is known to cause one) aborts the module with a trap, and everything made
/// from it is dead. The JS side then starts a fresh module for the next connection.
#[wasm_bindgen(js_name = setFailureHandler)]
pub fn set_failure_handler(f: Function) {
    ON_FAILURE.with(|h| {
        if let Ok(mut h) = h.try_borrow_mut() {
            *h = Some(f);
        }
    });
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("panic");
        ON_FAILURE.with(|h| {
            if let Some(f) = h.try_borrow().ok().as_deref().and_then(Option::as_ref) {
                let _ = f.call1(&JsValue::UNDEFINED, &JsValue::from_str(message));
            }
        })
    }));
}

/// A one-shot timer on gloo-timers: calls `f` once, `ms` milliseconds from now, unless freed
/// first (`free()` cancels it). The facade's ack timeouts run on it.
#[wasm_bindgen]
pub struct Delay(#[allow(dead_code)] Timeout);

#[wasm_bindgen]
impl Delay {
    /// Calls `f` in `ms` milliseconds.
    #[wasm_bindgen(constructor)]
    pub fn new(ms: u32, f: Function) -> Delay {
        Delay(Timeout::new(ms, move || {
            let _ = f.call0(&JsValue::UNDEFINED);
        }))
    }
}

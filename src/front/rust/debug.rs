//! Debug logging through the [`log`] facade, the counterpart of the npm package's `debug`
//! option: frames written and received (level `trace`), and the connection's state changes
//! and reconnection attempts (level `debug`), all under the target `rtio`. Silent, and next to
//! free, unless the app installs a logger (see the README's "Debug logging").

use wasm_bindgen::JsValue;

/// The target every record of rtio is logged under.
pub(crate) const TARGET: &str = "rtio";

/// A frame written (`sent`) or received: text as it is, binary by its length.
pub(crate) fn frame(sent: bool, frame: &JsValue) {
    if !log::log_enabled!(target: TARGET, log::Level::Trace) {
        return;
    }
    let way = if sent { "send" } else { "receive" };
    match frame.as_string() {
        Some(text) => log::trace!(target: TARGET, "{way} {text}"),
        None => {
            let bytes = js_sys::Reflect::get(frame, &JsValue::from_str("byteLength"))
                .ok()
                .and_then(|n| n.as_f64())
                .unwrap_or(0.0);
            log::trace!(target: TARGET, "{way} binary ({bytes} bytes)")
        }
    }
}

/// A text frame of a mode (an SSE event, an emit's POST body, a plain WebSocket text frame).
pub(crate) fn text(sent: bool, what: &str, text: &str) {
    let way = if sent { "send" } else { "receive" };
    log::trace!(target: TARGET, "{way} {what} {text}");
}

/// A state change or a reconnection attempt of `whose` (`engine`, a namespace, `stream`),
/// with what it says (an id, a reason).
pub(crate) fn state(whose: &str, what: &dyn core::fmt::Debug, detail: &str) {
    log::debug!(target: TARGET, "{whose}: {what:?} {detail}");
}

//! The wall clock, in milliseconds.
//!
//! The wall clock rather than `performance.now()`: background tabs throttle timers and sleeping
//! machines stop them, and heartbeat deadlines must be judged on the time that really passed.

use crate::session::Millis;

/// Milliseconds since the epoch, never going backwards from `last` (the system clock may be
/// set back).
pub(crate) fn now(last: &mut Millis) -> Millis {
    let t = js_sys::Date::now();
    let t = if t.is_finite() && t > 0.0 {
        t as Millis
    } else {
        0
    };
    if t > *last {
        *last = t;
    }
    *last
}

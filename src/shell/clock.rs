//! The wall clock, in milliseconds.
//!
//! The wall clock rather than `performance.now()`: background tabs throttle timers and sleeping
//! machines stop them, and heartbeat deadlines must be judged on the time that really passed.

use crate::session::Millis;

/// Milliseconds since the epoch from `Date.now()`, never going backwards from `last` (the
/// system clock may be set back).
pub(crate) fn now(last: &mut Millis) -> Millis {
    if !super::BROWSER {
        return *last;
    }
    monotonic(last, js_sys::Date::now())
}

/// A seed for the reconnection jitter, from `Math.random()` (0 off the browser).
#[cfg(feature = "rust-api")]
pub(crate) fn seed() -> u64 {
    if !super::BROWSER {
        return 0;
    }
    (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64
}

/// `t` (milliseconds from `Date.now()`), or `last` if that is later.
pub(crate) fn monotonic(last: &mut Millis, t: f64) -> Millis {
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

//! 10,000 connect/disconnect cycles on the Rust API, in headless Chromium with
//! wasm-bindgen-test, against four test servers (the URLs below, read at compile time):
//! a socket connects over WebSocket, disconnects and is dropped, ten thousand times (four at a
//! time, one per server), and the wasm memory, the live WebSockets and the page listeners rtio
//! adds (`online`, `offline`, `visibilitychange`) are back where they were.
//!
//! ```text
//! RTIO_NODE_URL=… RTIO_NODE_RECOVERY_URL=… RTIO_RUST_URL=… RTIO_MODES_URL=… \
//!     cargo test --target wasm32-unknown-unknown --test cycles
//! ```
#![cfg(target_arch = "wasm32")]

use std::future::Future;
use std::pin::pin;
use std::task::Poll;

use rtio::{Options, Socket, Transport};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const CYCLES: u32 = 10_000;
const WORKERS: u32 = 4;
/// Longest a connect may take, in milliseconds.
const WAIT: u32 = 5_000;

#[wasm_bindgen(inline_js = "
export function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
// The WebSockets made since the first call, and the listeners added and not removed on the
// window and the document since then.
function install() {
    if (!globalThis.__cycles) {
        const state = { sockets: [], listeners: 0 };
        const Original = globalThis.WebSocket;
        globalThis.WebSocket = class extends Original {
            constructor(...args) {
                super(...args);
                state.sockets.push(new WeakRef(this));
            }
        };
        // As the browser keys them: by type, function and capture flag.
        const key = (type, o) => type + (o === true || (o && o.capture) ? ':capture' : '');
        for (const target of [window, document]) {
            const add = target.addEventListener, remove = target.removeEventListener;
            const live = new Map();
            target.addEventListener = function (type, f, o) {
                if (!live.has(f)) live.set(f, new Set());
                const keys = live.get(f);
                if (!keys.has(key(type, o))) { keys.add(key(type, o)); state.listeners++; }
                return add.call(this, type, f, o);
            };
            target.removeEventListener = function (type, f, o) {
                const keys = live.get(f);
                if (keys && keys.delete(key(type, o))) {
                    state.listeners--;
                    if (!keys.size) live.delete(f);
                }
                return remove.call(this, type, f, o);
            };
        }
        globalThis.__cycles = state;
    }
    return globalThis.__cycles;
}
export function open_websockets() {
    const state = install();
    state.sockets = state.sockets.filter((r) => r.deref() !== undefined);
    return state.sockets.filter((r) => r.deref().readyState <= 1).length;
}
export function page_listeners() {
    return install().listeners;
}
export function memory_bytes(memory) {
    return memory.buffer.byteLength;
}
")]
extern "C" {
    fn sleep(ms: u32) -> js_sys::Promise;
    /// WebSockets connecting or open (the first call of either counter installs them).
    fn open_websockets() -> u32;
    /// Listeners added to the window and the document, less those removed.
    fn page_listeners() -> i32;
    fn memory_bytes(memory: &JsValue) -> f64;
}

async fn pause(ms: u32) {
    let _ = JsFuture::from(sleep(ms)).await;
}

/// `fut`, or a panic naming `what` after `ms` milliseconds.
async fn within<F: Future>(ms: u32, what: &str, fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut timer = pin!(pause(ms));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(v);
        }
        if timer.as_mut().poll(cx).is_ready() {
            panic!("{what}: no result within {ms} ms");
        }
        Poll::Pending
    })
    .await
}

/// Runs four futures to their ends, side by side.
async fn join4<F: Future<Output = ()>>(a: F, b: F, c: F, d: F) {
    let mut all = [Box::pin(a), Box::pin(b), Box::pin(c), Box::pin(d)];
    let mut done = [false; 4];
    std::future::poll_fn(|cx| {
        for (f, d) in all.iter_mut().zip(done.iter_mut()) {
            if !*d && f.as_mut().poll(cx).is_ready() {
                *d = true;
            }
        }
        if done.iter().all(|d| *d) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

fn wasm_memory() -> f64 {
    memory_bytes(&wasm_bindgen::memory())
}

async fn cycle(url: &str, i: u32) {
    let opts = Options::default().transports(&[Transport::WebSocket]);
    let socket = Socket::connect(url, opts).unwrap_or_else(|e| panic!("cycle {i}: {e}"));
    within(
        WAIT,
        &format!("cycle {i}: connect"),
        socket.wait_connected(),
    )
    .await
    .unwrap_or_else(|e| panic!("cycle {i}: {e}"));
    socket.disconnect();
}

#[wasm_bindgen_test]
async fn ten_thousand_connect_disconnect_cycles() {
    // Four servers, one worker each: Chromium opens one WebSocket at a time per host and port,
    // and waits a little after each.
    let urls = [
        option_env!("RTIO_NODE_URL"),
        option_env!("RTIO_NODE_RECOVERY_URL"),
        option_env!("RTIO_RUST_URL"),
        option_env!("RTIO_MODES_URL"),
    ]
    .map(|u| {
        u.filter(|u| !u.is_empty()).unwrap_or_else(|| {
            panic!(
                "RTIO_NODE_URL, RTIO_NODE_RECOVERY_URL, RTIO_RUST_URL and RTIO_MODES_URL must \
                 be set at compile time"
            )
        })
    });
    // `count` cycles, by four workers, one per server.
    let run = |count: u32| async move {
        let worker = |w: u32| async move {
            let mut i = w;
            while i < count {
                cycle(urls[w as usize], i).await;
                i += WORKERS;
            }
        };
        join4(worker(0), worker(1), worker(2), worker(3)).await;
    };
    // Counters first, so that they see every WebSocket and listener of the cycles; then a
    // warm-up at the same pace, so that the memory's high-water mark is reached.
    let _ = (open_websockets(), page_listeners());
    run(400).await;
    pause(500).await;
    let (memory, sockets, listeners) = (wasm_memory(), open_websockets(), page_listeners());
    let started = js_sys::Date::now();
    // In five rounds: the memory after each, to tell a leak (it grows round after round) from
    // the high-water mark of four connections at a time (reached in the first).
    let mut rounds = Vec::new();
    for _ in 0..5 {
        run(CYCLES / 5).await;
        rounds.push(wasm_memory());
    }
    let ms = js_sys::Date::now() - started;
    // A closed WebSocket is closing until its handshake is over.
    for _ in 0..50 {
        if open_websockets() <= sockets {
            break;
        }
        pause(100).await;
    }
    let (memory_after, sockets_after, listeners_after) =
        (wasm_memory(), open_websockets(), page_listeners());
    web_sys::console::log_1(
        &format!(
            "{CYCLES} connect/disconnect cycles in {ms:.0} ms: wasm memory {memory} -> \
             {memory_after} B (after each fifth: {rounds:?}), open WebSockets {sockets} -> \
             {sockets_after}, page listeners {listeners} -> {listeners_after}"
        )
        .into(),
    );
    assert_eq!(sockets_after, sockets, "open WebSockets after the cycles");
    assert_eq!(
        listeners_after, listeners,
        "page listeners after the cycles"
    );
    assert_eq!(
        rounds[4], rounds[0],
        "wasm memory grew after the first 2,000 cycles: {rounds:?}"
    );
    assert!(
        memory_after - memory <= 262_144.0,
        "wasm memory grew from {memory} to {memory_after} B"
    );
}

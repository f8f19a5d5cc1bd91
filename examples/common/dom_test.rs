//! What the hooks tests of the Leptos and the Yew example share: reading and driving the page.
//! Included by both (`#[path]`).

use std::time::Duration;

use gloo_timers::future::sleep;
use wasm_bindgen::JsCast;

/// The text of the first element `selector` finds under `root` (empty if none).
pub fn text_of(root: &web_sys::Element, selector: &str) -> String {
    root.query_selector(selector)
        .ok()
        .flatten()
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

/// The names listed in `#members`, sorted.
pub fn members(root: &web_sys::Element) -> Vec<String> {
    let list = root.query_selector_all("#members li").expect("a selector");
    let mut names: Vec<String> = (0..list.length())
        .filter_map(|i| list.get(i)?.text_content())
        .collect();
    names.sort();
    names
}

/// Polls `check` every 20 ms until it holds; fails with `what` after 5 s.
pub async fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..250 {
        if check() {
            return;
        }
        sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Clicks the element `selector` finds under `root`.
pub fn click(root: &web_sys::Element, selector: &str) {
    root.query_selector(selector)
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        .expect("the button")
        .click();
}

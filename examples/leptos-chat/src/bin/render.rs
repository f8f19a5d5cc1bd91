//! Renders the chat's page on the server (feature `ssr`, on the host) and prints it: the app's
//! first view, with no socket made and nothing connected, followed by the script that loads the
//! `hydrate` build of the wasm, which takes the rendered page over and connects.
//!
//! `cargo run --no-default-features --features ssr --bin render > dist-ssr/index.html`

use std::sync::Arc;

use hydration_context::SsrSharedContext;
use leptos::prelude::*;
use leptos_chat::App;

/// The page of the client-side build: its head is the server render's too.
const PAGE: &str = include_str!("../../index.html");

fn main() {
    // A root owner with the server's shared context: the hooks see a server render.
    let owner = Owner::new_root(Some(Arc::new(SsrSharedContext::new())));
    let app = owner.with(|| view! { <App /> }.to_html());
    let head = PAGE.find("<body>").map_or(PAGE, |at| &PAGE[..at]);
    // The app must be the body's first child: hydration walks the body from there.
    print!(
        r#"{head}<body>{app}<script type="module">
      import init, {{ hydrate, listener_count }} from "./leptos_chat.js";
      await init();
      hydrate();
      // Listeners on the app's socket and the mounted chat's room (read by the browser test).
      window.rtioListeners = listener_count;
    </script></body>
</html>
"#
    );
}

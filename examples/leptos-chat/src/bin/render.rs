//! Renders the chat's page on the server (feature `ssr`, on the host) and prints it: the app's
//! first view, with no socket made and nothing connected, followed by the script that loads the
//! `hydrate` build of the wasm, which takes the rendered page over and connects.
//!
//! `cargo run --no-default-features --features ssr --bin render > dist-ssr/index.html`

use std::sync::Arc;

use hydration_context::SsrSharedContext;
use leptos::prelude::*;
use leptos_chat::App;

fn main() {
    // A root owner with the server's shared context: the hooks see a server render.
    let owner = Owner::new_root(Some(Arc::new(SsrSharedContext::new())));
    let app = owner.with(|| view! { <App /> }.to_html());
    // The app must be the body's first child: hydration walks the body from there.
    print!(
        r#"<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>rtio · Leptos chat</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="style.css" />
  </head>
  <body>{app}<script type="module">
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

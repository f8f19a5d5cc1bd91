//! rtio: a Socket.IO v5 / Engine.IO v4 client for the browser.
pub mod codec;
pub mod session;

//! `rtio-server`: the demo and test server for rtio, built on axum and socketioxide.
//!
//! | path               | serves                                                                                   |
//! |--------------------|------------------------------------------------------------------------------------------|
//! | `/socket.io/`      | Socket.IO v5 / Engine.IO v4 (WebSocket and long-polling)                                 |
//! | `/pkg/...`         | the built npm package (`--pkg`), `.wasm` as `application/wasm`                           |
//! | `/tests/pages/...` | the browser-test pages (`--tests-dir`)                                                   |
//! | `/sse`             | SSE streams (`GET`) and emits (`POST`) for rtio's SSE mode, in the rooms: [`sse`]        |
//! | `/ws`              | plain WebSocket with the JSON envelope, for rtio's plain-WebSocket mode, in the rooms: [`plainws`] |
//! | `/...`             | the demos in `examples/server/static/`: collaborative cursors at `/`, chat at `/chat.html`; or the app of `--static DIR` |
//!
//! Missing directories give 404s, so the server runs before the package is built.
//!
//! | namespace `/` events                          | described in  | for                            |
//! |-----------------------------------------------|---------------|--------------------------------|
//! | `whoami`, `echo`, `emit-back`, `ask`, `kick`… | [`protocol`]  | the protocol the browser tests share with the Node server |
//! | `chat`                                        | [`chat`]      | the chat demo                  |
//! | `rtio:join`, `rtio:leave`, `rtio:to`          | [`rooms`]     | rooms and presence (`ROOMS.md`); rooms starting with `locked:` are refused |
//! | `chaos:emit`, `chaos:feed`…                   | [`chaos`]     | the chaos runs' workload, with `--chaos-log FILE` |
//!
//! `/second`, the long-named namespace and `/forbidden` are in [`protocol`] too.
//!
//! The SSE and WebSocket clients are members of the same rooms as the Socket.IO clients of `/`
//! ([`bridge`]): each side sees the other's presence and room messages. `--test-controls` adds
//! the routes that let tests publish SSE events and stall or cut connections.
//! With `--redis URL` ([`cli`]) the server uses socketioxide's Redis adapter: instances
//! on the same Redis share rooms, broadcasts and presence.
//!
//! With `--tls-cert FILE --tls-key FILE` everything above is served over HTTPS and WSS instead
//! (rustls; HTTP/1.1, so WebSockets upgrade as they do over HTTP).
//!
//! Once the socket is bound the server prints exactly one machine-readable line,
//! `LISTENING http://<host>:<port>` (`https://` with TLS), followed by lines for people. SIGINT and
//! SIGTERM close every Socket.IO connection, stop accepting, let running HTTP
//! requests finish (for at most [`SHUTDOWN_GRACE`]) and exit with status 0.
//! Bad arguments exit with status 2, other startup failures with status 1.

mod bridge;
mod chaos;
mod chat;
mod cli;
mod eventlog;
mod origin;
mod payload;
mod plainws;
mod protocol;
mod rooms;
mod sessions;
mod sse;

use std::future::{pending, Future, IntoFuture};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY};
use axum::http::HeaderValue;
use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use socketioxide::adapter::{Adapter, Emitter};
use socketioxide::layer::SocketIoLayer;
use socketioxide::{SocketIo, TransportType};
use socketioxide_redis::drivers::redis::redis_client;
use socketioxide_redis::{RedisAdapter, RedisAdapterCtr};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::bridge::{Cut, Sio};
use crate::cli::{Command, Options, USAGE};
use crate::eventlog::EventLog;

/// How long the server waits for a client to acknowledge a server-to-client
/// event (`ask`). Node's socket.io waits forever; a long timeout keeps slow
/// tests from seeing a difference while still freeing the ack slot.
const ACK_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest accepted Engine.IO payload, in bytes: the default of Node socket.io's
/// `maxHttpBufferSize` (socketioxide's own default is ten times smaller).
const MAX_PAYLOAD: u64 = 1_000_000;

/// Packets buffered per connection before `emit` fails (socketioxide's default
/// of 128 is easy to reach in a throughput benchmark).
const MAX_BUFFERED_PACKETS: usize = 4096;

/// How long a shutdown waits for open HTTP requests before exiting anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long startup waits for Redis (`--redis`) to answer before giving up.
const REDIS_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let options = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Serve(options)) => options,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("rtio-server: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("rtio-server: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("rtio-server: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Sets up Socket.IO (in memory, or on Redis with `--redis`), then [`run`]s the server.
async fn serve(options: Options) -> Result<(), String> {
    rooms::set_limits(options.limits);
    origin::set_policy(origin::Policy {
        any: options.allow_origins.iter().any(|o| o == "*"),
        allowed: options.allow_origins.clone(),
        tls: options.tls.is_some(),
    });
    if options.sessions {
        let key = match &options.session_key {
            Some(path) => Some(
                std::fs::read(path)
                    .map_err(|e| format!("cannot read the session key {}: {e}", path.display()))?,
            ),
            None => None,
        };
        sessions::enable(key.as_deref(), options.tls.is_some())?;
    }
    if let Some(path) = &options.chaos_log {
        chaos::open(path)
            .map_err(|e| format!("cannot use the chaos log {}: {e}", path.display()))?;
    }
    let builder = match (options.polling, options.websocket) {
        (true, false) => SocketIo::builder().transports([TransportType::Polling]),
        (false, true) => SocketIo::builder().transports([TransportType::Websocket]),
        _ => SocketIo::builder(),
    };
    let builder = builder
        .ping_interval(Duration::from_millis(options.ping_interval_ms))
        .ping_timeout(Duration::from_millis(options.ping_timeout_ms))
        .ack_timeout(ACK_TIMEOUT)
        .max_payload(MAX_PAYLOAD)
        .max_buffer_size(MAX_BUFFERED_PACKETS);
    let Some(url) = options.redis.clone() else {
        let (io_layer, io) = builder.build_layer();
        // The in-memory adapter is ready at once: nothing to wait for.
        let _: Vec<()> = protocol::register(&io);
        return run(options, io_layer, io, None).await;
    };
    let (adapter, redis_addr) = connect_redis(&url).await?;
    let (io_layer, io) = builder
        .with_adapter::<RedisAdapter<Emitter>>(adapter)
        .build_layer();
    // Each namespace subscribes to its Redis channels, and exists once that is done.
    for init in protocol::register(&io) {
        init.await
            .map_err(|e| format!("cannot subscribe to Redis at {redis_addr}: {e}"))?;
    }
    run(options, io_layer, io, Some(redis_addr)).await
}

/// Connects to Redis for socketioxide's Redis adapter; returns it with the address, for
/// messages (the URL may hold a password).
async fn connect_redis(
    url: &str,
) -> Result<
    (
        RedisAdapterCtr<socketioxide_redis::drivers::redis::RedisDriver>,
        String,
    ),
    String,
> {
    let client = redis_client::Client::open(url).map_err(|e| format!("invalid Redis URL: {e}"))?;
    let addr = client.get_connection_info().addr().to_string();
    let adapter = tokio::time::timeout(
        REDIS_CONNECT_TIMEOUT,
        RedisAdapterCtr::new_with_redis(&client),
    )
    .await
    .map_err(|_| {
        format!("cannot connect to Redis at {addr}: no answer in {REDIS_CONNECT_TIMEOUT:?}")
    })?
    .map_err(|e| format!("cannot connect to Redis at {addr}: {e}"))?;
    Ok((adapter, addr))
}

/// CORS for Engine.IO's long-polling requests (`/socket.io/`): the request's origin is allowed,
/// with credentials (cookies, a load balancer's sticky-session cookie) and the headers it asks
/// for (`extraHeaders`), as the Node test server's `cors: { origin: true, credentials: true }`.
/// A WebSocket needs none of it. The demo keeps nothing behind cookies; a real server would list
/// its own origins instead.
async fn engine_cors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, Method, StatusCode};
    use axum::response::IntoResponse;
    if !request.uri().path().starts_with("/socket.io/") {
        return next.run(request).await;
    }
    let origin = request.headers().get(header::ORIGIN).cloned();
    let asked = request
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned();
    let preflight = request.method() == Method::OPTIONS && origin.is_some();
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    if let Some(origin) = origin {
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        h.append(header::VARY, HeaderValue::from_static("Origin"));
        if preflight {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST"),
            );
            if let Some(asked) = asked {
                h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked);
            }
        }
    }
    response
}

/// Binds, announces the address, and serves until SIGINT or SIGTERM.
async fn run<A: Adapter>(
    options: Options,
    io_layer: SocketIoLayer<A>,
    io: SocketIo<A>,
    redis_addr: Option<String>,
) -> Result<(), String> {
    warn_if_missing(&options.pkg_dir, "/pkg/");
    warn_if_missing(&options.tests_dir, "/tests/pages/");
    if let Some(dir) = &options.static_dir {
        warn_if_missing(dir, "/");
    }
    let log = match &options.sse_log {
        Some(path) => EventLog::open(path, eventlog::MAX_ENTRIES)
            .map_err(|e| format!("cannot use the SSE log {}: {e}", path.display()))?,
        None => EventLog::in_memory(eventlog::MAX_ENTRIES),
    };
    let sse_ping = (options.sse_ping_ms > 0).then(|| Duration::from_millis(options.sse_ping_ms));
    let bridge = bridge::install(Sio(io.clone()), log, sse_ping);
    let mut bridged = Router::new()
        .merge(sse::routes(bridge.clone()))
        .merge(plainws::routes(bridge.clone()));
    if options.test_controls {
        bridged = bridged
            .merge(sse::test_routes(bridge.clone()))
            .merge(plainws::test_routes(bridge.clone()));
    }
    let app = bridged
        .merge(sessions::routes())
        .merge(static_files(&options))
        .layer(io_layer)
        .layer(axum::middleware::from_fn(engine_cors));

    // Read before binding: a certificate that does not load stops the start.
    let tls = options.tls.as_ref().map(tls_config).transpose()?;
    let bind_addr = SocketAddr::new(options.host, options.port);
    let listener = TcpListener::bind(bind_addr)
        .await
        .map_err(|e| format!("cannot listen on {bind_addr}: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    announce(addr, tls.is_some(), redis_addr.as_deref());

    let (shutdown_started, shutdown_seen) = oneshot::channel::<()>();
    let graceful = async move {
        shutdown_signal().await;
        let _ = shutdown_started.send(());
        // SSE streams and WebSockets end too, or they would hold the shutdown.
        bridge.cut(None, Cut::End);
        // Long-polling requests and WebSockets would otherwise keep the
        // graceful shutdown waiting for up to a ping interval.
        io.close().await;
    };
    let server: Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>> = match tls {
        None => Box::pin(
            axum::serve(listener, app)
                .with_graceful_shutdown(graceful)
                .into_future(),
        ),
        Some(config) => {
            let handle = axum_server::Handle::new();
            let stop = handle.clone();
            tokio::spawn(async move {
                graceful.await;
                stop.graceful_shutdown(None);
            });
            let listener = listener
                .into_std()
                .map_err(|e| format!("cannot hand the socket to TLS: {e}"))?;
            Box::pin(
                axum_server::from_tcp_rustls(listener, config)
                    .handle(handle)
                    .serve(app.into_make_service()),
            )
        }
    };
    let grace_expired = async {
        match shutdown_seen.await {
            Ok(()) => tokio::time::sleep(SHUTDOWN_GRACE).await,
            Err(_) => pending().await,
        }
    };
    tokio::select! {
        result = server => result.map_err(|e| format!("server error: {e}")),
        () = grace_expired => {
            eprintln!("rtio-server: requests still open after {SHUTDOWN_GRACE:?}; exiting");
            Ok(())
        }
    }
}

/// The TLS configuration of `--tls-cert` and `--tls-key`: rustls with the `ring` provider, its
/// safe default versions (TLS 1.2 and 1.3), HTTP/1.1 only.
fn tls_config(tls: &cli::Tls) -> Result<RustlsConfig, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let certs = CertificateDer::pem_file_iter(&tls.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read the certificate {}: {e}", tls.cert.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", tls.cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key)
        .map_err(|e| format!("cannot read the private key {}: {e}", tls.key.display()))?;
    // rustls marks the `ring` provider deprecated for its lack of post-quantum key exchange;
    // the other provider (aws-lc) needs cmake to build, and a demo and test server on a
    // certificate of its own does not need post-quantum TLS.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("the certificate and the key do not go together: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

/// The Content-Security-Policy of the demo pages: scripts, styles, images and connections
/// from this server only, no inline script or style, and WebAssembly compiled (rtio's wasm).
pub const DEMO_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";

/// The HTTP routes other than Socket.IO. The demos are served under [`DEMO_CSP`]; an app given
/// with `--static` sets its own policy, if any.
fn static_files(options: &Options) -> Router {
    let app = match &options.static_dir {
        Some(dir) => Router::new().fallback_service(ServeDir::new(dir)),
        None => Router::new()
            .fallback_service(ServeDir::new(
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("static"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(DEMO_CSP),
            )),
    };
    Router::new()
        .nest_service("/pkg", ServeDir::new(&options.pkg_dir))
        .nest_service("/tests/pages", ServeDir::new(&options.tests_dir))
        .fallback_service(app)
        // A page load gives a session cookie (when sessions are on).
        .layer(axum::middleware::from_fn(sessions::page_cookie))
        // The package is rebuilt while the server runs: always revalidate.
        .layer(SetResponseHeaderLayer::if_not_present(
            CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
}

fn warn_if_missing(dir: &Path, route: &str) {
    if !dir.is_dir() {
        eprintln!(
            "rtio-server: {} is not a directory; {route} answers 404 until it exists",
            dir.display()
        );
    }
}

/// Prints the `LISTENING` line that scripts wait for, then lines for people.
fn announce(addr: SocketAddr, tls: bool, redis_addr: Option<&str>) {
    let scheme = if tls { "https" } else { "http" };
    let mut out = std::io::stdout().lock();
    // A closed stdout must not stop the server, so write errors are ignored.
    let _ = writeln!(out, "LISTENING {scheme}://{addr}");
    let _ = writeln!(out, "rtio demo: open {scheme}://{addr}/");
    if let Some(redis_addr) = redis_addr {
        let _ = writeln!(
            out,
            "rooms and broadcasts shared through Redis at {redis_addr}"
        );
    }
    let _ = out.flush();
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

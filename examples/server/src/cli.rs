//! Command-line options, parsed by hand.
//!
//! | flag              | default              | meaning                                  |
//! |-------------------|----------------------|------------------------------------------|
//! | `--port N`        | `3000`               | TCP port; `0` picks a free one           |
//! | `--host IP`       | `127.0.0.1`          | address to bind                          |
//! | `--pkg DIR`       | `<repo>/pkg`         | the built npm package, served at `/pkg/` |
//! | `--tests-dir DIR` | `<repo>/tests/pages` | test pages, served at `/tests/pages/`    |
//! | `--static DIR`    | the cursors demo     | the app served at `/`, e.g. a built example |
//! | `--ping-interval MS` | `25000`           | Engine.IO heartbeat interval             |
//! | `--ping-timeout MS`  | `20000`           | how long a pong may take                 |
//! | `--redis URL`     | none (in memory)     | share rooms through Redis, see below     |
//! | `--sse-ping MS`   | `15000`              | heartbeat of `GET /sse` streams; `0`: none |
//! | `--sse-log FILE`  | none (in memory)     | keep the SSE event log in a file, see below |
//! | `--test-controls` | off                  | serve the test controls of `/sse` and `/ws` |
//! | `--transports LIST` | `polling,websocket` | the Engine.IO transports served          |
//! | `--chaos-log FILE` | none                | serve the chaos runs' workload and log it in `FILE` ([`crate::chaos`]) |
//! | `--relay-limit RATE[/BURST]` | `200/400`  | `rtio:to` per second and at once, per socket |
//! | `--join-limit RATE[/BURST]`  | `10/100`   | `rtio:join` per second and at once, per socket |
//! | `--max-rooms N`   | `100`                | rooms a socket may be a member of        |
//! | `--max-members N` | `1000`               | members a room may have                  |
//! | `--max-relay-bytes N` | `16384`          | bytes of an `rtio:to` message            |
//! | `--presence-interval MS` | `100`         | `updated` presence coalesced per interval |
//! | `--allow-origin ORIGIN` | own origin only | also accept pages of ORIGIN (repeatable; `*`: any) ([`crate::origin`]) |
//! | `--tls-cert FILE`, `--tls-key FILE` | none (HTTP) | serve HTTPS and WSS with this certificate chain and key (PEM), both or neither |
//! | `--no-sessions`   | sessions on          | no session cookie: connections need none ([`crate::sessions`]) |
//! | `--session-key FILE` | a new random key  | sign session cookies with the key in FILE (32 bytes or more), shared by instances |
//! | `-h`, `--help`    |                      | print usage and exit                     |
//!
//! Every flag with a value also accepts the `--flag=value` form. The limit flags are the
//! rooms' limits ([`crate::rooms::Limits`], ROOMS.md "Limits"); a BURST left out equals the RATE.
//!
//! `--sse-log FILE` keeps the event log of the SSE endpoint ([`crate::eventlog`]) in `FILE`
//! (JSON lines; created if missing) and reads it back at start, so event ids continue and a
//! client resumes with `Last-Event-ID` across a restart. A file that cannot be read or written
//! at startup exits with status 1.
//!
//! `--test-controls` adds the routes tests use to drive the SSE and WebSocket endpoints:
//! `POST /sse/publish`, `POST /sse/control/{fail,stall,drop}`, `GET /sse/control/clients`,
//! `POST /ws/control/{stall,drop}` ([`crate::sse`], [`crate::plainws`]). They let anyone who
//! reaches the server publish events and cut connections, so they are off by default.
//!
//! `--redis redis://HOST:PORT[/DB]` makes the server use socketioxide's Redis adapter, so
//! several server instances on the same Redis share rooms, broadcasts and presence. The adapter
//! needs Redis 7 or later and RESP3: `protocol=resp3` is added to the URL's query when it has
//! no `protocol`, an uppercase `RESP3` is accepted, and any other protocol is refused (exit 2),
//! as is a URL the Redis client cannot parse or one that is not `redis://` (no TLS support is
//! built in). A Redis that cannot be reached at startup exits with status 1.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use crate::rooms::Limits;

/// Usage text printed by `--help` and after a bad argument.
pub const USAGE: &str = "\
usage: rtio-server [--port N] [--host IP] [--pkg DIR] [--tests-dir DIR] [--static DIR]
                   [--ping-interval MS] [--ping-timeout MS] [--redis URL]
                   [--sse-ping MS] [--sse-log FILE] [--test-controls]
                   [--transports LIST] [--chaos-log FILE]
                   [--relay-limit RATE[/BURST]] [--join-limit RATE[/BURST]] [--max-rooms N]
                   [--max-members N] [--max-relay-bytes N] [--presence-interval MS]
                   [--tls-cert FILE --tls-key FILE] [--allow-origin ORIGIN]...
                   [--no-sessions | --session-key FILE]

  --port N          TCP port to listen on (default 3000; 0 picks a free port)
  --host IP         address to bind (default 127.0.0.1)
  --pkg DIR         built npm package served at /pkg/ (default: <repo>/pkg)
  --tests-dir DIR   pages served at /tests/pages/ (default: <repo>/tests/pages)
  --static DIR      app served at / instead of the demos, e.g. a built chat example
                    (examples/leptos-chat/dist)
  --ping-interval MS  Engine.IO heartbeat interval (default 25000)
  --ping-timeout MS   how long the server waits for a pong (default 20000)
  --redis URL       share rooms and broadcasts with other instances through Redis >= 7,
                    e.g. redis://127.0.0.1:6379 (RESP3: protocol=resp3 is added if missing)
  --sse-ping MS     heartbeat period of the /sse event streams (default 15000; 0: none)
  --sse-log FILE    keep the /sse event log in FILE (JSON lines), read back at start, so ids
                    continue and clients resume across a restart (default: in memory)
  --test-controls   serve the test controls: POST /sse/publish, /sse/control/{fail,stall,drop},
                    GET /sse/control/clients, POST /ws/control/{stall,drop} (default: off)
  --transports LIST the Engine.IO transports served, comma-separated: polling, websocket
                    (default both; \"polling\" serves as behind a proxy that blocks WebSocket)
  --chaos-log FILE  serve the chaos test workload's events and log what they do in FILE
  --relay-limit RATE[/BURST]  rtio:to messages a socket may send a second, and at once
                    (default 200/400; BURST left out: RATE)
  --join-limit RATE[/BURST]   rtio:join requests a socket may send a second, and at once
                    (default 10/100)
  --max-rooms N     rooms a socket may be a member of (default 100)
  --max-members N   members a room may have (default 1000)
  --max-relay-bytes N  bytes of an rtio:to message's event and arguments (default 16384)
  --presence-interval MS  updated presence: the first at once, then at most one per MS per
                    member and room (default 100; 0: every one)
  --allow-origin ORIGIN  also accept connections from pages of ORIGIN (http[s]://host[:port]),
                    repeatable; `*` accepts any (default: the server's own origin only)
  --tls-cert FILE   serve HTTPS and WSS with this certificate chain (PEM); needs --tls-key
  --tls-key FILE    the certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1)
  --no-sessions     give no session cookie and ask none: for servers that pages of other
                    origins use (default: a page load gives an HttpOnly session cookie, and
                    Socket.IO, /sse, /ws and POST /session need it)
  --session-key FILE  sign session cookies with the key in FILE (32 bytes or more), so that
                    several instances accept each other's cookies (default: a random key)
  -h, --help        print this help";

/// Where to listen and what to serve.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Address to bind.
    pub host: IpAddr,
    /// Port to bind; `0` asks the OS for a free one.
    pub port: u16,
    /// Directory served at `/pkg/`.
    pub pkg_dir: PathBuf,
    /// Directory served at `/tests/pages/`.
    pub tests_dir: PathBuf,
    /// Directory served at `/` in place of the demos; `None`: the demos.
    pub static_dir: Option<PathBuf>,
    /// Engine.IO heartbeat interval, in milliseconds.
    pub ping_interval_ms: u64,
    /// How long the server waits for a pong, in milliseconds.
    pub ping_timeout_ms: u64,
    /// Redis URL (with `protocol=resp3`) for socketioxide's Redis adapter; `None` keeps the
    /// in-memory adapter.
    pub redis: Option<String>,
    /// Heartbeat period of the SSE streams, in milliseconds; `0`: none.
    pub sse_ping_ms: u64,
    /// File that keeps the SSE event log; `None`: in memory only.
    pub sse_log: Option<PathBuf>,
    /// `--chaos-log`: serve the chaos workload and log it there.
    pub chaos_log: Option<PathBuf>,
    /// Serve the test controls of `/sse` and `/ws`.
    pub test_controls: bool,
    /// Serve Engine.IO's long-polling transport.
    pub polling: bool,
    /// Serve Engine.IO's WebSocket transport.
    pub websocket: bool,
    /// The rooms' limits.
    pub limits: Limits,
    /// `--tls-cert` and `--tls-key`: serve HTTPS and WSS.
    pub tls: Option<Tls>,
    /// `--allow-origin`: origins accepted besides the server's own (`*`: any).
    pub allow_origins: Vec<String>,
    /// Cookie sessions ([`crate::sessions`]); `--no-sessions` turns them off.
    pub sessions: bool,
    /// `--session-key`: the file holding the key that signs session cookies.
    pub session_key: Option<PathBuf>,
}

/// A certificate chain and its private key, PEM files.
#[derive(Debug, Clone, PartialEq)]
pub struct Tls {
    /// The certificate chain, the server's own first.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

impl Default for Options {
    fn default() -> Self {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        Options {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 3000,
            pkg_dir: repo.join("pkg"),
            tests_dir: repo.join("tests/pages"),
            static_dir: None,
            ping_interval_ms: 25_000,
            ping_timeout_ms: 20_000,
            redis: None,
            sse_ping_ms: 15_000,
            sse_log: None,
            chaos_log: None,
            test_controls: false,
            polling: true,
            websocket: true,
            limits: Limits::default(),
            tls: None,
            allow_origins: Vec::new(),
            sessions: true,
            session_key: None,
        }
    }
}

/// What the command line asks for.
// Made once, at startup: the size of `Options` costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, PartialEq)]
pub enum Command {
    /// Run the server.
    Serve(Options),
    /// Print [`USAGE`] and exit successfully.
    Help,
}

/// A command line that cannot be run; the process exits with status 2.
#[derive(Debug, PartialEq)]
pub enum CliError {
    /// A flag this program does not know.
    UnknownFlag(String),
    /// A flag given without its value.
    MissingValue(&'static str),
    /// A flag that needs another one, given without it.
    Needs(&'static str, &'static str),
    /// Two flags that exclude each other.
    Conflicts(&'static str, &'static str),
    /// A value that does not parse.
    InvalidValue {
        /// The flag, e.g. `--port`.
        flag: &'static str,
        /// The value as given.
        value: String,
        /// What was expected instead.
        expected: &'static str,
    },
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::UnknownFlag(flag) => write!(f, "unknown argument `{flag}`"),
            CliError::MissingValue(flag) => write!(f, "`{flag}` needs a value"),
            CliError::Needs(flag, other) => write!(f, "`{flag}` needs `{other}` too"),
            CliError::Conflicts(flag, other) => {
                write!(f, "`{flag}` and `{other}` cannot be given together")
            }
            CliError::InvalidValue {
                flag,
                value,
                expected,
            } => write!(
                f,
                "invalid value `{value}` for `{flag}`: expected {expected}"
            ),
        }
    }
}

impl std::error::Error for CliError {}

/// Parses the arguments that follow the program name.
pub fn parse<I>(args: I) -> Result<Command, CliError>
where
    I: IntoIterator<Item = String>,
{
    let mut options = Options::default();
    let (mut tls_cert, mut tls_key) = (None, None);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline_value) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value)),
            _ => (arg.clone(), None),
        };
        let flag: &'static str = match name.as_str() {
            "-h" | "--help" if inline_value.is_none() => return Ok(Command::Help),
            "--test-controls" if inline_value.is_none() => {
                options.test_controls = true;
                continue;
            }
            "--no-sessions" if inline_value.is_none() => {
                options.sessions = false;
                continue;
            }
            "--port" => "--port",
            "--host" => "--host",
            "--pkg" => "--pkg",
            "--tests-dir" => "--tests-dir",
            "--static" => "--static",
            "--ping-interval" => "--ping-interval",
            "--ping-timeout" => "--ping-timeout",
            "--redis" => "--redis",
            "--sse-ping" => "--sse-ping",
            "--sse-log" => "--sse-log",
            "--chaos-log" => "--chaos-log",
            "--transports" => "--transports",
            "--relay-limit" => "--relay-limit",
            "--join-limit" => "--join-limit",
            "--max-rooms" => "--max-rooms",
            "--max-members" => "--max-members",
            "--max-relay-bytes" => "--max-relay-bytes",
            "--presence-interval" => "--presence-interval",
            "--tls-cert" => "--tls-cert",
            "--allow-origin" => "--allow-origin",
            "--tls-key" => "--tls-key",
            "--session-key" => "--session-key",
            _ => return Err(CliError::UnknownFlag(arg)),
        };
        let value = match inline_value {
            Some(value) => value.to_owned(),
            None => args.next().ok_or(CliError::MissingValue(flag))?,
        };
        let invalid = |expected| CliError::InvalidValue {
            flag,
            value: value.clone(),
            expected,
        };
        match flag {
            "--port" => {
                options.port = value
                    .parse()
                    .map_err(|_| invalid("a port number from 0 to 65535"))?
            }
            "--host" => {
                options.host = value
                    .parse()
                    .map_err(|_| invalid("an IP address such as 127.0.0.1"))?
            }
            "--ping-interval" | "--ping-timeout" => {
                let ms = value
                    .parse()
                    .ok()
                    .filter(|ms| (1..=600_000).contains(ms))
                    .ok_or_else(|| invalid("milliseconds from 1 to 600000"))?;
                if flag == "--ping-interval" {
                    options.ping_interval_ms = ms;
                } else {
                    options.ping_timeout_ms = ms;
                }
            }
            "--redis" => {
                options.redis = Some(
                    redis_url(&value)
                        .ok_or_else(|| invalid("a redis:// URL of a Redis >= 7 (RESP3)"))?,
                )
            }
            "--sse-ping" => {
                options.sse_ping_ms = value
                    .parse()
                    .ok()
                    .filter(|ms| *ms <= 600_000)
                    .ok_or_else(|| invalid("milliseconds from 0 to 600000"))?
            }
            "--transports" => {
                let list: Vec<&str> = value.split(',').map(str::trim).collect();
                if list.is_empty() || list.iter().any(|t| !["polling", "websocket"].contains(t)) {
                    return Err(invalid("polling, websocket, or both, comma-separated"));
                }
                options.polling = list.contains(&"polling");
                options.websocket = list.contains(&"websocket");
            }
            "--relay-limit" | "--join-limit" => {
                let (rate, burst) = rate_and_burst(&value).ok_or_else(|| {
                    invalid("RATE or RATE/BURST: a rate above 0, a burst of 1 or more")
                })?;
                if flag == "--relay-limit" {
                    (options.limits.relays_per_second, options.limits.relay_burst) = (rate, burst);
                } else {
                    (options.limits.joins_per_second, options.limits.join_burst) = (rate, burst);
                }
            }
            "--max-rooms" | "--max-members" | "--max-relay-bytes" => {
                let n = value
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| invalid("a whole number of 1 or more"))?;
                match flag {
                    "--max-rooms" => options.limits.rooms_per_socket = n,
                    "--max-members" => options.limits.members_per_room = n,
                    _ => options.limits.relay_bytes = n,
                }
            }
            "--presence-interval" => {
                let ms = value
                    .parse()
                    .ok()
                    .filter(|ms| *ms <= 600_000)
                    .ok_or_else(|| invalid("milliseconds from 0 to 600000"))?;
                options.limits.presence_interval = Duration::from_millis(ms);
            }
            "--allow-origin" => options.allow_origins.push(
                crate::origin::parse_origin(&value)
                    .ok_or_else(|| invalid("http://HOST[:PORT], https://HOST[:PORT] or *"))?,
            ),
            "--tls-cert" | "--tls-key" if value.is_empty() => return Err(invalid("a file")),
            "--tls-cert" => tls_cert = Some(PathBuf::from(value)),
            "--tls-key" => tls_key = Some(PathBuf::from(value)),
            "--session-key" if value.is_empty() => return Err(invalid("a file")),
            "--session-key" => options.session_key = Some(PathBuf::from(value)),
            "--sse-log" if value.is_empty() => return Err(invalid("a file")),
            "--sse-log" => options.sse_log = Some(PathBuf::from(value)),
            "--chaos-log" if value.is_empty() => return Err(invalid("a file")),
            "--chaos-log" => options.chaos_log = Some(PathBuf::from(value)),
            "--pkg" | "--tests-dir" | "--static" if value.is_empty() => {
                return Err(invalid("a directory"))
            }
            "--pkg" => options.pkg_dir = PathBuf::from(value),
            "--static" => options.static_dir = Some(PathBuf::from(value)),
            _ => options.tests_dir = PathBuf::from(value),
        }
    }
    if !options.sessions && options.session_key.is_some() {
        return Err(CliError::Conflicts("--no-sessions", "--session-key"));
    }
    options.tls = match (tls_cert, tls_key) {
        (Some(cert), Some(key)) => Some(Tls { cert, key }),
        (Some(_), None) => return Err(CliError::Needs("--tls-cert", "--tls-key")),
        (None, Some(_)) => return Err(CliError::Needs("--tls-key", "--tls-cert")),
        (None, None) => None,
    };
    Ok(Command::Serve(options))
}

/// `RATE` or `RATE/BURST` (a burst left out equals the rate): a finite rate above 0 and a burst
/// of at least 1.
fn rate_and_burst(value: &str) -> Option<(f64, f64)> {
    let number = |text: &str| text.parse::<f64>().ok().filter(|n| n.is_finite());
    let (rate, burst) = match value.split_once('/') {
        Some((rate, burst)) => (number(rate)?, number(burst)?),
        None => (number(value)?, number(value)?),
    };
    (rate > 0.0 && burst >= 1.0).then_some((rate, burst))
}

/// The `--redis` URL with `protocol=resp3` in its query, or `None` when it is not a `redis://`
/// URL the Redis client accepts or when it asks for another protocol.
pub fn redis_url(url: &str) -> Option<String> {
    use socketioxide_redis::drivers::redis::redis_client::{Client, ProtocolVersion};

    if !url.starts_with("redis://") || url.contains('#') {
        return None;
    }
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs = Vec::new();
    let mut has_protocol = false;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        match pair.split_once('=') {
            Some(("protocol", version)) => {
                if !matches!(version.to_ascii_lowercase().as_str(), "resp3" | "3") {
                    return None;
                }
                has_protocol = true;
                pairs.push("protocol=resp3");
            }
            _ => pairs.push(pair),
        }
    }
    if !has_protocol {
        pairs.push("protocol=resp3");
    }
    let url = format!("{base}?{}", pairs.join("&"));
    let client = Client::open(url.as_str()).ok()?;
    (client.get_connection_info().redis_settings().protocol() == ProtocolVersion::RESP3)
        .then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Command, CliError> {
        parse(args.iter().map(|s| s.to_string()))
    }

    fn parse_ok(args: &[&str]) -> Options {
        match parse_strs(args) {
            Ok(Command::Serve(o)) => o,
            other => panic!("{args:?} should parse: {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        assert_eq!(parse_strs(&[]), Ok(Command::Serve(Options::default())));
        assert_eq!(Options::default().port, 3000);
    }

    #[test]
    fn both_value_forms() {
        let Ok(Command::Serve(o)) = parse_strs(&["--port", "0", "--pkg=/x", "--tests-dir", "/y"])
        else {
            panic!("should parse");
        };
        assert_eq!(o.port, 0);
        assert_eq!(o.pkg_dir, PathBuf::from("/x"));
        assert_eq!(o.tests_dir, PathBuf::from("/y"));
        assert_eq!(o.static_dir, None);
        let Ok(Command::Serve(o)) = parse_strs(&["--static=/app"]) else {
            panic!("should parse");
        };
        assert_eq!(o.static_dir, Some(PathBuf::from("/app")));
        assert_eq!(
            parse_strs(&["--static", ""]),
            Err(CliError::InvalidValue {
                flag: "--static",
                value: String::new(),
                expected: "a directory"
            })
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_strs(&["--nope"]),
            Err(CliError::UnknownFlag("--nope".into()))
        );
        assert_eq!(
            parse_strs(&["--port"]),
            Err(CliError::MissingValue("--port"))
        );
        assert!(matches!(
            parse_strs(&["--port", "70000"]),
            Err(CliError::InvalidValue { flag: "--port", .. })
        ));
        assert!(matches!(
            parse_strs(&["--host=localhost"]),
            Err(CliError::InvalidValue { flag: "--host", .. })
        ));
        assert!(matches!(
            parse_strs(&["--ping-interval", "0"]),
            Err(CliError::InvalidValue {
                flag: "--ping-interval",
                ..
            })
        ));
        assert_eq!(parse_strs(&["--help"]), Ok(Command::Help));
    }

    #[test]
    fn heartbeat() {
        let Ok(Command::Serve(o)) = parse_strs(&["--ping-interval", "300", "--ping-timeout=200"])
        else {
            panic!("should parse");
        };
        assert_eq!((o.ping_interval_ms, o.ping_timeout_ms), (300, 200));
    }

    #[test]
    fn chaos_log() {
        assert_eq!(Options::default().chaos_log, None);
        let Ok(Command::Serve(o)) = parse_strs(&["--chaos-log", "/tmp/chaos.jsonl"]) else {
            panic!("should parse");
        };
        assert_eq!(o.chaos_log, Some(PathBuf::from("/tmp/chaos.jsonl")));
        assert!(parse_strs(&["--chaos-log="]).is_err());
    }

    #[test]
    fn allow_origin() {
        assert!(Options::default().allow_origins.is_empty());
        let Ok(Command::Serve(o)) = parse_strs(&[
            "--allow-origin",
            "http://127.0.0.1:4000",
            "--allow-origin=*",
        ]) else {
            panic!("should parse");
        };
        assert_eq!(o.allow_origins, ["http://127.0.0.1:4000", "*"]);
        assert!(matches!(
            parse_strs(&["--allow-origin", "127.0.0.1:4000"]),
            Err(CliError::InvalidValue { .. })
        ));
    }

    #[test]
    fn sessions() {
        let o = parse_ok(&[]);
        assert!(o.sessions);
        assert_eq!(o.session_key, None);
        assert!(!parse_ok(&["--no-sessions"]).sessions);
        assert_eq!(
            parse_ok(&["--session-key", "k.bin"]).session_key,
            Some(PathBuf::from("k.bin"))
        );
        assert!(parse_strs(&["--no-sessions", "--session-key", "k.bin"]).is_err());
        assert!(parse_strs(&["--no-sessions=1"]).is_err());
        assert!(parse_strs(&["--session-key="]).is_err());
    }

    #[test]
    fn tls() {
        assert_eq!(Options::default().tls, None);
        let Ok(Command::Serve(o)) = parse_strs(&["--tls-cert", "c.pem", "--tls-key=k.pem"]) else {
            panic!("should parse");
        };
        assert_eq!(
            o.tls,
            Some(Tls {
                cert: PathBuf::from("c.pem"),
                key: PathBuf::from("k.pem")
            })
        );
        assert_eq!(
            parse_strs(&["--tls-cert", "c.pem"]),
            Err(CliError::Needs("--tls-cert", "--tls-key"))
        );
        assert_eq!(
            parse_strs(&["--tls-key", "k.pem"]),
            Err(CliError::Needs("--tls-key", "--tls-cert"))
        );
        assert!(parse_strs(&["--tls-cert="]).is_err());
    }

    #[test]
    fn room_limits() {
        assert_eq!(Options::default().limits, Limits::default());
        let Ok(Command::Serve(o)) = parse_strs(&[
            "--relay-limit",
            "20/40",
            "--join-limit=2.5",
            "--max-rooms",
            "3",
            "--max-members=4",
            "--max-relay-bytes",
            "1024",
            "--presence-interval",
            "0",
        ]) else {
            panic!("should parse");
        };
        let l = o.limits;
        assert_eq!((l.relays_per_second, l.relay_burst), (20.0, 40.0));
        assert_eq!((l.joins_per_second, l.join_burst), (2.5, 2.5));
        assert_eq!(
            (l.rooms_per_socket, l.members_per_room, l.relay_bytes),
            (3, 4, 1024)
        );
        assert_eq!(l.presence_interval, Duration::ZERO);
        for bad in [
            ["--relay-limit", "0"],
            ["--relay-limit", "10/0.5"],
            ["--relay-limit", "inf"],
            ["--join-limit", "5/"],
            ["--join-limit", "-1/5"],
            ["--max-rooms", "0"],
            ["--max-members", "1.5"],
            ["--max-relay-bytes", "lots"],
            ["--presence-interval", "600001"],
        ] {
            assert!(
                matches!(parse_strs(&bad), Err(CliError::InvalidValue { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn sse_and_test_controls() {
        let o = Options::default();
        assert_eq!(
            (o.sse_ping_ms, o.sse_log.clone(), o.test_controls),
            (15_000, None, false)
        );
        let Ok(Command::Serve(o)) = parse_strs(&[
            "--test-controls",
            "--sse-ping",
            "0",
            "--sse-log=/tmp/x.jsonl",
        ]) else {
            panic!("should parse");
        };
        assert_eq!(o.sse_ping_ms, 0);
        assert_eq!(o.sse_log, Some(PathBuf::from("/tmp/x.jsonl")));
        assert!(o.test_controls);
        assert!(matches!(
            parse_strs(&["--sse-ping", "600001"]),
            Err(CliError::InvalidValue {
                flag: "--sse-ping",
                ..
            })
        ));
        assert!(matches!(
            parse_strs(&["--sse-log="]),
            Err(CliError::InvalidValue {
                flag: "--sse-log",
                ..
            })
        ));
        assert_eq!(
            parse_strs(&["--test-controls=yes"]),
            Err(CliError::UnknownFlag("--test-controls=yes".into()))
        );
    }

    #[test]
    fn redis() {
        let Ok(Command::Serve(o)) = parse_strs(&["--redis", "redis://127.0.0.1:6379"]) else {
            panic!("should parse");
        };
        assert_eq!(
            o.redis.as_deref(),
            Some("redis://127.0.0.1:6379?protocol=resp3")
        );
        for (given, wanted) in [
            ("redis://h:1/2", "redis://h:1/2?protocol=resp3"),
            ("redis://h:1/?protocol=RESP3", "redis://h:1/?protocol=resp3"),
            (
                "redis://h:1?protocol=3&x=y",
                "redis://h:1?protocol=resp3&x=y",
            ),
            ("redis://:pw@h:1?x=y", "redis://:pw@h:1?x=y&protocol=resp3"),
        ] {
            assert_eq!(redis_url(given).as_deref(), Some(wanted), "{given}");
        }
        for bad in [
            "",
            "127.0.0.1:6379",
            "http://h:1",
            "rediss://h:1",
            "redis://h:1?protocol=resp2",
            "redis://h:1?protocol=2",
            "redis://h:notaport",
        ] {
            assert_eq!(redis_url(bad), None, "{bad}");
            assert!(matches!(
                parse_strs(&["--redis", bad]),
                Err(CliError::InvalidValue {
                    flag: "--redis",
                    ..
                })
            ));
        }
        assert_eq!(
            parse_strs(&["--redis"]),
            Err(CliError::MissingValue("--redis"))
        );
    }
}

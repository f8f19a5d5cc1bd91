//! Origin checks, against cross-site WebSocket hijacking: a page of another site must not open
//! a connection to this server in its visitor's name (with the visitor's cookies).
//!
//! A browser names the page's origin in the `Origin` header of every WebSocket handshake and
//! cross-origin request. A request is accepted when it has no `Origin` (not from a page, or a
//! same-origin request that does not send one), when the origin is the server's own (the
//! scheme it serves and the `Host` the request was sent to), or when it is one of those given
//! with `--allow-origin` (`*`: any, for test servers whose pages come from elsewhere).
//! Everything else is refused, where the client can read why:
//!
//! | where                        | refusal                                                      |
//! |------------------------------|--------------------------------------------------------------|
//! | Socket.IO (every namespace)  | `CONNECT_ERROR` "origin not allowed" (the client's `connect_error`) |
//! | `GET /sse`, `POST /sse`      | `403` `{ "error": "origin not allowed" }` (with CORS headers, so a page can read it) |
//! | `GET /ws`                    | the WebSocket opens, then closes with code 1008 and the reason |
//!
//! and each refusal is logged on stderr with the origin. The Engine.IO session under a refused
//! Socket.IO connection carries nothing: no namespace is connected.

use std::fmt;
use std::sync::OnceLock;

use axum::http::{header, HeaderMap};

/// The refusal's text.
pub const NOT_ALLOWED: &str = "origin not allowed";

/// Which origins may connect besides the server's own.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    /// `--allow-origin '*'`: any.
    pub any: bool,
    /// `--allow-origin ORIGIN`, normalized by [`parse_origin`].
    pub allowed: Vec<String>,
    /// The server serves HTTPS, so its own origin is `https://<Host>`.
    pub tls: bool,
}

static POLICY: OnceLock<Policy> = OnceLock::new();

/// Sets the policy (once per process, before serving; `false` if it was set already).
pub fn set_policy(policy: Policy) -> bool {
    POLICY.set(policy).is_ok()
}

/// The origin of a request that the policy in force refuses, or `None` to accept it.
pub fn refused(headers: &HeaderMap) -> Option<String> {
    check(POLICY.get_or_init(Policy::default), headers)
}

/// The origin of a request that `policy` refuses, or `None` to accept it.
pub fn check(policy: &Policy, headers: &HeaderMap) -> Option<String> {
    let origin = headers.get(header::ORIGIN)?;
    let Ok(origin) = origin.to_str() else {
        return Some(String::from_utf8_lossy(origin.as_bytes()).into_owned());
    };
    if policy.any
        || policy
            .allowed
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin))
    {
        return None;
    }
    let scheme = if policy.tls { "https" } else { "http" };
    let own = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .is_some_and(|host| {
            origin.len() == scheme.len() + 3 + host.len()
                && origin[..scheme.len()].eq_ignore_ascii_case(scheme)
                && &origin[scheme.len()..scheme.len() + 3] == "://"
                && origin[scheme.len() + 3..].eq_ignore_ascii_case(host)
        });
    (!own).then(|| origin.to_owned())
}

/// An `--allow-origin` value: `*`, or an origin as browsers write it, `http://` or `https://`
/// then a host and an optional port, nothing after (no path, no trailing `/`).
pub fn parse_origin(value: &str) -> Option<String> {
    if value == "*" {
        return Some(value.to_owned());
    }
    let rest = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"))?;
    let ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    ok.then(|| value.to_ascii_lowercase())
}

/// The Socket.IO refusal, its `Display` text the CONNECT_ERROR message.
#[derive(Debug)]
pub struct OriginRefused;

impl fmt::Display for OriginRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(NOT_ALLOWED)
    }
}

impl std::error::Error for OriginRefused {}

/// Logs a refusal.
pub fn log_refusal(what: &str, origin: &str) {
    eprintln!("rtio-server: refused {what} from origin {origin:?}: {NOT_ALLOWED}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(origin) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        h
    }

    #[test]
    fn own_origin_and_no_origin_pass_others_are_refused() {
        let policy = Policy::default();
        let host = "127.0.0.1:3000";
        assert_eq!(check(&policy, &headers(None, host)), None);
        assert_eq!(
            check(&policy, &headers(Some("http://127.0.0.1:3000"), host)),
            None
        );
        assert_eq!(
            check(&policy, &headers(Some("HTTP://127.0.0.1:3000"), host)),
            None
        );
        for other in [
            "http://127.0.0.1:3001",
            "https://127.0.0.1:3000",
            "http://evil.example",
            "http://127.0.0.1:30000",
            "http://127.0.0.1:300",
            "null",
            "",
        ] {
            assert_eq!(
                check(&policy, &headers(Some(other), host)),
                Some(other.to_owned())
            );
        }
        // Over TLS the own origin is https.
        let tls = Policy {
            tls: true,
            ..Policy::default()
        };
        assert_eq!(
            check(&tls, &headers(Some("https://127.0.0.1:3000"), host)),
            None
        );
        assert!(check(&tls, &headers(Some("http://127.0.0.1:3000"), host)).is_some());
    }

    #[test]
    fn allowed_origins_and_any() {
        let policy = Policy {
            allowed: vec!["http://127.0.0.1:4000".into()],
            ..Policy::default()
        };
        let host = "127.0.0.1:3000";
        assert_eq!(
            check(&policy, &headers(Some("http://127.0.0.1:4000"), host)),
            None
        );
        assert!(check(&policy, &headers(Some("http://127.0.0.1:4001"), host)).is_some());
        let any = Policy {
            any: true,
            ..Policy::default()
        };
        assert_eq!(
            check(&any, &headers(Some("http://evil.example"), host)),
            None
        );
    }

    #[test]
    fn allow_origin_values() {
        assert_eq!(parse_origin("*").as_deref(), Some("*"));
        assert_eq!(
            parse_origin("http://127.0.0.1:4000").as_deref(),
            Some("http://127.0.0.1:4000")
        );
        assert_eq!(
            parse_origin("https://App.Example").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(
            parse_origin("https://[::1]:8443").as_deref(),
            Some("https://[::1]:8443")
        );
        for bad in [
            "",
            "127.0.0.1:4000",
            "ftp://x",
            "http://",
            "http://x/",
            "http://x/path",
            "http://a b",
        ] {
            assert_eq!(parse_origin(bad), None, "{bad}");
        }
    }
}

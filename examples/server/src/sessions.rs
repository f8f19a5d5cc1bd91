//! Cookie sessions: who a visitor is, decided by the server, not by what a client claims.
//!
//! A page load (`GET` of `/` or of an `.html` page) without a valid session cookie is answered
//! with a new one:
//!
//! ```text
//! Set-Cookie: rtio_session=v1.<id>.<name>.<mac>; Path=/; HttpOnly; SameSite=Lax[; Secure]
//! ```
//!
//! `HttpOnly`: no script reads it; `SameSite=Lax`: a page of another site cannot make the
//! browser send it with its requests (and the origin check, [`crate::origin`], refuses the
//! cross-site WebSockets that would still carry it); `Secure` when the server serves HTTPS.
//! `<id>` is 128 random bits, `<name>` the display name (hex of its UTF-8, empty until one is
//! set) and `<mac>` an HMAC-SHA256 of both with the server's key, so a cookie cannot be forged
//! or edited. The key is random per process, or read from `--session-key FILE` so that several
//! instances behind one load balancer accept each other's cookies.
//!
//! Every connection needs a valid cookie: the Socket.IO handshake (every namespace), the SSE
//! stream and its `POST`s, the plain-WebSocket upgrade and `POST /session`. Without one:
//!
//! | where                        | refusal                                                          |
//! |------------------------------|------------------------------------------------------------------|
//! | Socket.IO (every namespace)  | `CONNECT_ERROR` [`REQUIRED`] (the client's `connect_error`)      |
//! | `GET /sse`, `POST /sse`, `POST /session` | `401` `{ "error": REQUIRED }`                        |
//! | `GET /ws`                    | the WebSocket opens, then closes with code 1008 and [`REQUIRED`] |
//!
//! and each refusal is logged on stderr.
//!
//! The display name is the session's: a room join's `meta.name` (Socket.IO's `rtio:join`, and
//! the `meta` of an SSE or WebSocket connection) is replaced with it ([`bind`]), so a client
//! cannot show itself under a name its session does not have. `POST /session` with
//! `{ "name": "…" }` sets the name (cleaned: whitespace collapsed, at most [`NAME_MAX`]
//! characters) and answers `{ "name": "…" }` with a new cookie that carries it. The instance
//! that takes the `POST` uses the new name at once for every connection of the session (the
//! next join or update shows it); another instance sharing the key sees it on the session's
//! next connection, whose handshake carries the new cookie.
//!
//! `--no-sessions` turns all of this off, for servers that pages of other origins use (tests).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{json, Value};

/// The cookie's name.
pub const COOKIE: &str = "rtio_session";

/// The refusal's text.
pub const REQUIRED: &str = "session required: load the page from this server first";

/// Longest display name, in characters (the demo page's own limit).
pub const NAME_MAX: usize = 40;

/// The name shown for a session that has not set one.
pub const ANONYMOUS: &str = "anonymous";

/// Sessions remembered by name (the rest are read from their cookie alone).
const MAX_REMEMBERED: usize = 100_000;

/// Shortest key, in bytes.
pub const MIN_KEY: usize = 32;

struct Sessions {
    key: hmac::Key,
    /// Cookies get `Secure` (the server serves HTTPS).
    secure: bool,
    /// Names set on this instance since the session's connections were made: id → name.
    names: Mutex<HashMap<String, String>>,
}

static SESSIONS: OnceLock<Sessions> = OnceLock::new();

/// Turns sessions on with `key` (`None`: a random one); once per process, before serving.
pub fn enable(key: Option<&[u8]>, secure: bool) -> Result<(), String> {
    let key = match key {
        Some(key) if key.len() < MIN_KEY => {
            return Err(format!(
                "the session key has {} bytes; it needs {MIN_KEY} or more",
                key.len()
            ))
        }
        Some(key) => hmac::Key::new(hmac::HMAC_SHA256, key),
        None => hmac::Key::generate(hmac::HMAC_SHA256, &SystemRandom::new())
            .map_err(|_| "cannot make a random session key".to_string())?,
    };
    SESSIONS
        .set(Sessions {
            key,
            secure,
            names: Mutex::default(),
        })
        .map_err(|_| "sessions are already on".to_string())
}

/// A visitor's session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// 32 hex digits.
    pub id: String,
    /// The name its cookie carries (empty: none set).
    pub name: String,
}

impl Session {
    /// The display name: the one set on this instance since, else the cookie's, else
    /// [`ANONYMOUS`].
    pub fn display_name(&self) -> String {
        let remembered = SESSIONS.get().and_then(|s| names(s).get(&self.id).cloned());
        match remembered {
            Some(name) => name,
            None if self.name.is_empty() => ANONYMOUS.to_string(),
            None => self.name.clone(),
        }
    }
}

/// Why a request has no session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionRequired;

impl fmt::Display for SessionRequired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REQUIRED)
    }
}

impl std::error::Error for SessionRequired {}

/// The session of a request: `Ok(None)` when sessions are off, `Err` when they are on and the
/// request has no valid cookie.
pub fn of(headers: &HeaderMap) -> Result<Option<Session>, SessionRequired> {
    let Some(sessions) = SESSIONS.get() else {
        return Ok(None);
    };
    cookies(headers)
        .find_map(|value| verify(&sessions.key, value))
        .map(Some)
        .ok_or(SessionRequired)
}

/// The values of every `rtio_session` cookie of a request.
fn cookies(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then_some(value)
        })
}

/// The signed text of `session`: `v1.<id>.<name as hex>.<mac as hex>`.
fn sign(key: &hmac::Key, session: &Session) -> String {
    let body = format!("v1.{}.{}", session.id, hex(session.name.as_bytes()));
    let mac = hmac::sign(key, body.as_bytes());
    format!("{body}.{}", hex(mac.as_ref()))
}

/// The session a cookie's value carries, if its MAC is right.
fn verify(key: &hmac::Key, value: &str) -> Option<Session> {
    let (body, mac) = value.rsplit_once('.')?;
    hmac::verify(key, body.as_bytes(), &unhex(mac)?).ok()?;
    let mut parts = body.split('.');
    let (Some("v1"), Some(id), Some(name), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    Some(Session {
        id: id.to_string(),
        name: String::from_utf8(unhex(name)?).ok()?,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// The `Set-Cookie` value for `session`.
fn set_cookie(sessions: &Sessions, session: &Session) -> HeaderValue {
    let secure = if sessions.secure { "; Secure" } else { "" };
    let text = format!(
        "{COOKIE}={}; Path=/; HttpOnly; SameSite=Lax{secure}",
        sign(&sessions.key, session)
    );
    // Hex and ASCII only: always a valid header value.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A new session, with no name.
fn fresh() -> Option<Session> {
    let mut id = [0u8; 16];
    SystemRandom::new().fill(&mut id).ok()?;
    Some(Session {
        id: hex(&id),
        name: String::new(),
    })
}

/// `name` cleaned: whitespace runs made one space, trimmed, at most [`NAME_MAX`] characters;
/// `None` when nothing is left or it holds control characters.
pub fn clean_name(name: &str) -> Option<String> {
    if name.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return None;
    }
    let name: String = name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(NAME_MAX)
        .collect();
    let name = name.trim_end().to_string();
    (!name.is_empty()).then_some(name)
}

/// `meta` with its `name` set to the session's display name (a `meta` that is not an object
/// becomes `{ "name": … }`); unchanged when there is no session.
pub fn bind(session: Option<&Session>, meta: Value) -> Value {
    let Some(session) = session else { return meta };
    let name = Value::String(session.display_name());
    match meta {
        Value::Object(mut map) => {
            map.insert("name".into(), name);
            Value::Object(map)
        }
        _ => json!({ "name": name }),
    }
}

/// Middleware for the pages: a `GET` of `/` or of an `.html` page without a valid session
/// cookie gets a new session.
pub async fn page_cookie(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(sessions) = SESSIONS.get() else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    let page = request.method() == Method::GET && (path.ends_with('/') || path.ends_with(".html"));
    let new = (page && of(request.headers()).is_err())
        .then(fresh)
        .flatten();
    let mut response = next.run(request).await;
    if let Some(session) = new {
        if response.status().is_success() {
            response
                .headers_mut()
                .append(header::SET_COOKIE, set_cookie(sessions, &session));
        }
    }
    response
}

/// `POST /session`: sets the session's display name.
pub fn routes() -> Router {
    Router::new().route("/session", post(set_name))
}

async fn set_name(headers: HeaderMap, body: Bytes) -> Response {
    use crate::sse::json_error;
    let Some(sessions) = SESSIONS.get() else {
        return json_error(StatusCode::NOT_FOUND, "sessions are off on this server");
    };
    if let Some(origin) = crate::origin::refused(&headers) {
        crate::origin::log_refusal("POST /session", &origin);
        return json_error(StatusCode::FORBIDDEN, crate::origin::NOT_ALLOWED);
    }
    let Ok(Some(mut session)) = of(&headers) else {
        log_refusal("POST /session");
        return json_error(StatusCode::UNAUTHORIZED, REQUIRED);
    };
    // JSON only: a form of another site cannot send it without a CORS preflight.
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected application/json",
        );
    }
    let name = crate::sse::json_object(&body)
        .ok()
        .and_then(|o| o.get("name").and_then(Value::as_str).and_then(clean_name));
    let Some(name) = name else {
        return json_error(StatusCode::BAD_REQUEST, "invalid name");
    };
    {
        let mut names = names(sessions);
        if names.len() >= MAX_REMEMBERED && !names.contains_key(&session.id) {
            // Forgotten sessions still have their name in their cookie.
            names.clear();
        }
        names.insert(session.id.clone(), name.clone());
    }
    session.name = name.clone();
    let mut response = axum::Json(json!({ "name": name })).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(sessions, &session));
    response
}

/// The names set on this instance (a poisoned lock is taken as it is: the map stays valid).
fn names(sessions: &Sessions) -> MutexGuard<'_, HashMap<String, String>> {
    sessions
        .names
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Logs a refusal.
pub fn log_refusal(what: &str) {
    eprintln!("rtio-server: refused {what}: {REQUIRED}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, &[7; 32])
    }

    #[test]
    fn a_signed_cookie_reads_back_and_an_edited_one_does_not() {
        let s = Session {
            id: "00112233445566778899aabbccddeeff".into(),
            name: "Ada Lovelace ✓".into(),
        };
        let text = sign(&key(), &s);
        assert_eq!(verify(&key(), &text), Some(s.clone()));
        // Another key, another name, a cut MAC, garbage: refused.
        let other = hmac::Key::new(hmac::HMAC_SHA256, &[8; 32]);
        assert_eq!(verify(&other, &text), None);
        let forged = text.replace(&hex(s.name.as_bytes()), &hex(b"Mallory"));
        assert_eq!(verify(&key(), &forged), None);
        assert_eq!(verify(&key(), &text[..text.len() - 2]), None);
        for bad in ["", ".", "v1", "v1.a.b.c", "v1..", "\u{e9}\u{e9}"] {
            assert_eq!(verify(&key(), bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let s = Session {
            id: "ab".repeat(16),
            name: String::new(),
        };
        let value = sign(&key(), &s);
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; rtio_session=junk"),
        );
        h.append(
            header::COOKIE,
            HeaderValue::from_str(&format!("b=2; {COOKIE}={value}")).unwrap(),
        );
        let found: Vec<&str> = cookies(&h).collect();
        assert_eq!(found, ["junk", value.as_str()]);
        assert_eq!(found.iter().find_map(|v| verify(&key(), v)), Some(s));
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(
            clean_name("  Ada \n  Lovelace ").as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(clean_name(&"x".repeat(50)).map(|n| n.len()), Some(NAME_MAX));
        assert_eq!(clean_name("   "), None);
        assert_eq!(clean_name("a\u{0}b"), None);
    }

    #[test]
    fn bind_replaces_the_claimed_name() {
        let s = Session {
            id: "cd".repeat(16),
            name: "Ada".into(),
        };
        assert_eq!(
            bind(Some(&s), json!({ "name": "Mallory", "color": "#fff" })),
            json!({ "name": "Ada", "color": "#fff" })
        );
        assert_eq!(bind(Some(&s), Value::Null), json!({ "name": "Ada" }));
        let unnamed = Session {
            name: String::new(),
            ..s
        };
        assert_eq!(
            bind(Some(&unnamed), json!({})),
            json!({ "name": ANONYMOUS })
        );
        assert_eq!(bind(None, json!(3)), json!(3));
    }
}

//! Splitting a Socket.IO URL into the Engine.IO endpoint and the namespace.

/// Where to connect: the WebSocket URL of the Engine.IO endpoint and the namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// `ws(s)://host[:port]` (no path).
    pub origin: String,
    /// The namespace, `/` by default.
    pub nsp: String,
    /// The URL's query string without `?` (may be empty).
    pub query: String,
}

/// Parses `http(s)://` or `ws(s)://` URLs: `https://host:3000/admin?x=1` → origin
/// `wss://host:3000`, namespace `/admin`, query `x=1`. Returns `None` for anything else.
pub(crate) fn parse(url: &str) -> Option<Target> {
    let (scheme, rest) = url.split_once("://")?;
    let ws = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        _ => return None,
    };
    let rest = rest.split('#').next().unwrap_or("");
    let (before_query, query) = match rest.split_once('?') {
        Some((a, q)) => (a, q),
        None => (rest, ""),
    };
    let (host, path) = match before_query.find('/') {
        Some(i) => (before_query.get(..i)?, before_query.get(i..)?),
        None => (before_query, ""),
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return None;
    }
    let nsp = match path.trim_end_matches('/') {
        "" => "/".to_string(),
        p => p.to_string(),
    };
    Some(Target {
        origin: format!("{ws}://{host}"),
        nsp,
        query: query.to_string(),
    })
}

/// The Engine.IO WebSocket URL for `origin`, `path` (e.g. `/socket.io/`) and extra query.
pub(crate) fn engine_url(origin: &str, path: &str, query: &str) -> String {
    let mut url = String::from(origin);
    if !path.starts_with('/') {
        url.push('/');
    }
    url.push_str(path);
    if !url.ends_with('/') {
        url.push('/');
    }
    url.push_str("?EIO=4&transport=websocket");
    if !query.is_empty() {
        url.push('&');
        url.push_str(query);
    }
    url
}

/// The polling URL of [`engine_url`]'s WebSocket URL `ws_url`.
pub(crate) fn polling_url(ws_url: &str) -> String {
    ws_url.replacen("ws", "http", 1).replacen(
        "?EIO=4&transport=websocket",
        "?EIO=4&transport=polling",
        1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let t = parse("https://Example.com:3000/admin/?x=1#frag").unwrap();
        assert_eq!(t.origin, "wss://Example.com:3000");
        assert_eq!(t.nsp, "/admin");
        assert_eq!(t.query, "x=1");
        let t = parse("http://127.0.0.1:80").unwrap();
        assert_eq!(
            (t.origin.as_str(), t.nsp.as_str()),
            ("ws://127.0.0.1:80", "/")
        );
        assert!(parse("ftp://x").is_none());
        assert!(parse("/relative").is_none());
        assert!(parse("http://").is_none());
        assert_eq!(
            engine_url("ws://h", "/socket.io", "a=1"),
            "ws://h/socket.io/?EIO=4&transport=websocket&a=1"
        );
        assert_eq!(
            polling_url("wss://h:1/x/?EIO=4&transport=websocket&a=transport%3Dwebsocket"),
            "https://h:1/x/?EIO=4&transport=polling&a=transport%3Dwebsocket"
        );
    }
}

//! The session on a fake clock: every input is a frame or a time, every output is checked.

use super::*;

/// The session under test, its outputs sorted into frames, transport commands and events as
/// they are taken, so that a test can look at each kind on its own.
struct S {
    session: Session<Vec<Vec<u8>>>,
    texts: Vec<String>,
    commands: Vec<TransportCommand>,
    events: Vec<Ev>,
}

impl S {
    fn new(config: SessionConfig) -> S {
        S {
            session: Session::new(config),
            texts: Vec::new(),
            commands: Vec::new(),
            events: Vec::new(),
        }
    }

    fn sort(&mut self) {
        while let Some(o) = self.session.poll_output() {
            match o {
                Output::Transmit(t) => {
                    self.texts.push(t.text + t.data.as_deref().unwrap_or(""));
                    let bins = t.attachments.iter().map(|b| format!("<bin {b:?}>"));
                    self.texts.extend(bins);
                }
                Output::Transport(c) => self.commands.push(c),
                Output::Event(e) => self.events.push(e),
            }
        }
    }
}

impl core::ops::Deref for S {
    type Target = Session<Vec<Vec<u8>>>;
    fn deref(&self) -> &Self::Target {
        &self.session
    }
}

impl core::ops::DerefMut for S {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.session
    }
}

const OPEN: &str =
    r#"0{"sid":"eio1","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000}"#;

fn texts(s: &mut S) -> Vec<String> {
    s.sort();
    core::mem::take(&mut s.texts)
}

fn events(s: &mut S) -> Vec<Ev> {
    s.sort();
    core::mem::take(&mut s.events)
}

fn commands(s: &mut S) -> Vec<TransportCommand> {
    s.sort();
    core::mem::take(&mut s.commands)
}

fn nsp(s: &str) -> Nsp {
    Rc::new(s.into())
}

type Ev = SessionEvent<Vec<Vec<u8>>>;

fn engine_open(sid: &str) -> Ev {
    SessionEvent::new(EventKind::EngineOpen, nsp(""), sid.into())
}

fn engine_close(reason: DisconnectReason) -> Ev {
    SessionEvent::closed(EventKind::EngineClose, nsp(""), reason)
}

/// The `Connect` event for a reply `{"sid":"<sid>"}`.
fn connected_ev(n: &str, sid: &str) -> Ev {
    SessionEvent::new(EventKind::Connect, nsp(n), sid.into())
}

fn connect_error(n: &str, data: &str) -> Ev {
    SessionEvent {
        data: Some(data.into()),
        ..SessionEvent::new(EventKind::ConnectError, nsp(n), String::new())
    }
}

fn failed_to_connect(n: &str, message: &str, reason: DisconnectReason) -> Ev {
    SessionEvent {
        reason: Some(reason),
        ..SessionEvent::new(EventKind::ConnectError, nsp(n), message.into())
    }
}

fn disconnected(n: &str, reason: DisconnectReason) -> Ev {
    SessionEvent::closed(EventKind::Disconnect, nsp(n), reason)
}

fn event(n: &str, data: &str, id: Option<u64>) -> Ev {
    SessionEvent {
        id,
        data: Some(data.into()),
        ..SessionEvent::new(EventKind::Event, nsp(n), String::new())
    }
}

fn acked(n: &str, id: u64, data: &str) -> Ev {
    SessionEvent {
        id: Some(id),
        data: Some(data.into()),
        ..SessionEvent::new(EventKind::Ack, nsp(n), String::new())
    }
}

fn ack_failed(n: &str, id: u64, failure: AckFailure) -> Ev {
    SessionEvent {
        id: Some(id),
        failure: Some(failure),
        ..SessionEvent::new(EventKind::AckFailed, nsp(n), failure.as_str().into())
    }
}

/// A session with `/` connected at time 0 (sid `s1`), outputs drained.
fn connected() -> S {
    connected_with(SessionConfig::default())
}

/// [`connected`] with `config`.
fn connected_with(config: SessionConfig) -> S {
    let mut s = S::new(config);
    s.connect("/", None, 0);
    s.handle_transport_open(0);
    s.handle_text(0, OPEN);
    s.handle_text(0, r#"40{"sid":"s1"}"#);
    texts(&mut s);
    events(&mut s);
    commands(&mut s);
    s
}

#[test]
fn handshake_and_connect_with_auth() {
    let mut s = S::new(SessionConfig::default());
    assert_eq!(s.poll_timeout(), None);
    s.connect("/", Some(r#"{"token":"abc"}"#.into()), 0);
    assert_eq!(commands(&mut s), vec![TransportCommand::Open]);
    assert!(
        texts(&mut s).is_empty(),
        "nothing is written before the handshake"
    );
    s.handle_transport_open(5);
    s.handle_text(10, OPEN);
    assert!(s.is_open());
    assert_eq!(s.handshake().map(|h| h.max_payload), Some(1000));
    assert_eq!(texts(&mut s), vec![r#"40{"token":"abc"}"#]);
    s.handle_text(12, r#"40{"sid":"s1"}"#);
    assert_eq!(
        events(&mut s),
        vec![engine_open("eio1"), connected_ev("/", "s1")]
    );
    assert!(s.is_connected("/"));
}

/// Connection-state recovery (a server that enables it): the CONNECT reply carries the
/// session's private id, and the server appends an offset to the events it keeps. The session
/// keeps both, and each later CONNECT asks for the session back with them, the app's auth
/// members after (they win); the reply with the same id means the session was recovered.
#[test]
fn the_session_to_recover_goes_with_each_connect() {
    let mut s = S::new(SessionConfig::default());
    s.connect("/", Some(r#"{"token":"t"}"#.into()), 0);
    s.handle_transport_open(0);
    s.handle_text(0, OPEN);
    assert_eq!(texts(&mut s), vec![r#"40{"token":"t"}"#]);
    s.handle_text(0, r#"40{"sid":"s1","pid":"p1"}"#);
    let first = events(&mut s);
    assert!(
        matches!(&first[1], SessionEvent { kind: EventKind::Connect, text, recovered: false, .. } if text == "s1"),
        "{first:?}"
    );
    // The offset is an event's last argument, when it is a string, follows another one and no
    // ack is asked for (as socket.io-client reads it).
    s.handle_text(1, r#"42["tick",1,"o1"]"#);
    s.handle_text(1, r#"423["ask","o-not"]"#);
    s.handle_text(1, r#"42["tick",{"n":2}]"#);
    s.handle_text(1, r#"42["o-alone"]"#);
    s.handle_text(1, r#"42["tick" , 3 , "o2" ]"#);
    let offsets: Vec<_> = events(&mut s).iter().map(|e| (e.kind, e.offset)).collect();
    assert_eq!(
        offsets,
        vec![
            (EventKind::Event, true),
            (EventKind::Event, false),
            (EventKind::Event, false),
            (EventKind::Event, false),
            (EventKind::Event, true),
        ]
    );

    let (at, sent) = next_attempt(&mut s, 2);
    assert_eq!(sent, vec![r#"40{"pid":"p1","offset":"o2","token":"t"}"#]);
    // A recovering server replays what was missed ahead of its reply; those count too.
    s.handle_text(at, r#"42["missed",4,"o3"]"#);
    s.handle_text(at, r#"40{"sid":"s1","pid":"p1"}"#);
    let evs: Vec<_> = events(&mut s)
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::Connect | EventKind::Event))
        .map(|e| (e.kind, e.recovered, e.offset))
        .collect();
    assert_eq!(
        evs,
        vec![
            (EventKind::Connect, true, false),
            (EventKind::Event, false, true),
        ]
    );

    // Not recovered: a new session, whose id the next CONNECT carries (the offset stays the
    // last one received, as socket.io-client's does).
    let (at, sent) = next_attempt(&mut s, at + 1);
    assert_eq!(sent, vec![r#"40{"pid":"p1","offset":"o3","token":"t"}"#]);
    s.handle_text(at, r#"40{"sid":"s2","pid":"p2"}"#);
    assert!(events(&mut s)
        .iter()
        .any(|e| e.kind == EventKind::Connect && !e.recovered && e.text == "s2"));
    let (_, sent) = next_attempt(&mut s, at + 1);
    assert_eq!(sent, vec![r#"40{"pid":"p2","offset":"o3","token":"t"}"#]);
}

/// What the server sends for recovery is written into the next CONNECT as it is, so only
/// plain strings are kept: an id or offset with a quote, backslash or control character is
/// ignored. The app's auth members win over the session's; an auth that is not an object, or
/// an empty one, adds nothing.
#[test]
fn recovery_keeps_plain_strings_and_auth_wins() {
    let connect = |auth: Option<&str>, reply: &str, event: &str| {
        let mut s = S::new(SessionConfig::default());
        s.connect("/", auth.map(String::from), 0);
        s.handle_transport_open(0);
        s.handle_text(0, OPEN);
        s.handle_text(0, reply);
        s.handle_text(0, event);
        texts(&mut s);
        next_attempt(&mut s, 1).1
    };
    let plain = r#"42["e","o1"]"#;
    assert_eq!(
        connect(None, r#"40{"sid":"s","pid":"p\"1"}"#, plain),
        vec!["40"]
    );
    assert_eq!(
        connect(None, r#"40{"sid":"s","pid":"p1"}"#, r#"42["e","o\\1"]"#),
        vec![r#"40{"pid":"p1"}"#]
    );
    assert_eq!(
        connect(Some("{}"), r#"40{"sid":"s","pid":"p1"}"#, plain),
        vec![r#"40{"pid":"p1","offset":"o1"}"#]
    );
    assert_eq!(
        connect(
            Some(r#"{"pid":"mine"}"#),
            r#"40{"sid":"s","pid":"p1"}"#,
            plain
        ),
        vec![r#"40{"pid":"p1","offset":"o1","pid":"mine"}"#]
    );
    assert_eq!(
        connect(Some(r#""text""#), r#"40{"sid":"s","pid":"p1"}"#, plain),
        vec![r#"40{"pid":"p1","offset":"o1"}"#]
    );
}

/// A recovering server replays the missed events ahead of its reply: they are held and
/// delivered right after `Connect`, in order, at most `max_buffer` of them; those of an
/// attempt that failed are never delivered.
#[test]
fn events_replayed_before_the_connect_reply_follow_it() {
    let mut s = S::new(SessionConfig {
        max_buffer: 2,
        ..SessionConfig::default()
    });
    s.connect("/", None, 0);
    s.handle_transport_open(0);
    s.handle_text(0, OPEN);
    assert_eq!(texts(&mut s), vec!["40"]);
    events(&mut s);
    s.handle_text(1, r#"42["missed",1,"o8"]"#);
    s.handle_text(1, r#"42["missed",2,"o9"]"#);
    s.handle_text(1, r#"42["missed",3,"o10"]"#);
    assert!(events(&mut s).is_empty(), "nothing before the reply");
    s.handle_text(1, r#"40{"sid":"s1","pid":"p1"}"#);
    s.handle_text(1, r#"42["live",4,"o11"]"#);
    let evs = events(&mut s);
    let data: Vec<_> = evs.iter().map(|e| (e.kind, e.data.as_deref())).collect();
    assert_eq!(
        data,
        vec![
            (EventKind::Connect, None),
            (EventKind::Event, Some(r#"["missed",1,"o8"]"#)),
            (EventKind::Event, Some(r#"["missed",2,"o9"]"#)),
            (EventKind::Event, Some(r#"["live",4,"o11"]"#)),
        ]
    );
    assert_eq!(evs[0].text, "s1");

    // An attempt whose link drops before the reply: its early events go with it.
    s.handle_transport_close(2, TransportClosed::Closed);
    let at = wait_attempt(&mut s);
    s.handle_transport_open(at);
    s.handle_text(at, OPEN);
    s.handle_text(at, r#"42["stale",5,"o12"]"#);
    s.handle_transport_close(at, TransportClosed::Closed);
    events(&mut s);
    texts(&mut s);
    let at = wait_attempt(&mut s);
    s.handle_transport_open(at);
    s.handle_text(at, OPEN);
    // Nor is its offset kept.
    assert_eq!(texts(&mut s), vec![r#"40{"pid":"p1","offset":"o11"}"#]);
    s.handle_text(at, r#"40{"sid":"s1","pid":"p1"}"#);
    let kinds: Vec<_> = events(&mut s).iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EventKind::Connect), "{kinds:?}");
    assert!(!kinds.contains(&EventKind::Event), "{kinds:?}");
}

#[test]
fn heartbeat_answers_and_times_out() {
    let mut s = connected();
    // Deadline: handshake at 0 + 300 + 200.
    assert_eq!(s.poll_timeout(), Some(500));
    s.handle_text(300, "2");
    assert_eq!(texts(&mut s), vec!["3"]);
    assert_eq!(s.poll_timeout(), Some(800));
    s.handle_timeout(799);
    assert!(s.is_connected("/"));
    s.handle_timeout(800);
    assert!(!s.is_connected("/"));
    assert_eq!(commands(&mut s), vec![TransportCommand::Close]);
    assert_eq!(
        events(&mut s),
        vec![
            disconnected("/", DisconnectReason::PingTimeout),
            engine_close(DisconnectReason::PingTimeout)
        ]
    );
}

#[test]
fn emit_rechecks_heartbeat_on_the_clock() {
    // A throttled timer never fired, but the clock says the link is dead: nothing is written.
    let mut s = connected();
    let r = s.emit("/", r#"["late"]"#.into(), vec![], None, 10_000);
    assert_eq!(r, Ok(None));
    assert!(texts(&mut s).is_empty());
    assert_eq!(s.buffered("/"), 1);
    assert!(events(&mut s).contains(&disconnected("/", DisconnectReason::PingTimeout)));
}

#[test]
fn emits_before_connect_are_buffered_in_order() {
    let mut s = S::new(SessionConfig {
        max_buffer: 2,
        ..SessionConfig::default()
    });
    s.emit("/", r#"["a",1]"#.into(), vec![], None, 0).unwrap();
    s.emit("/", r#"["b",2]"#.into(), vec![], Some(None), 0)
        .unwrap();
    assert_eq!(
        s.emit("/", r#"["c"]"#.into(), vec![], None, 0),
        Err(EmitError::BufferFull)
    );
    s.connect("/", None, 0);
    s.handle_transport_open(0);
    s.handle_text(0, OPEN);
    assert_eq!(texts(&mut s), vec!["40"]);
    s.handle_text(1, r#"40{"sid":"x"}"#);
    assert_eq!(texts(&mut s), vec![r#"42["a",1]"#, r#"420["b",2]"#]);
    assert_eq!(s.buffered("/"), 0);
}

/// A frame of which the session sees only the first `n` bytes, as the npm build passes long
/// frames: the payload is cut from the whole frame the shell keeps.
struct Start<'a> {
    whole: &'a str,
    n: usize,
}

impl Frame for Start<'_> {
    type Payload = String;
    fn text(&self) -> &str {
        &self.whole[..self.n.min(self.whole.len())]
    }
    fn is_whole(&self) -> bool {
        self.n >= self.whole.len()
    }
    fn cut(&self, at: usize) -> String {
        self.whole[at..].into()
    }
}

#[test]
fn the_start_of_a_frame_is_enough_for_events_and_acks() {
    let mut s = connected();
    let a = s.emit("/", r#"["q"]"#.into(), vec![], Some(None), 0);
    assert_eq!(a, Ok(Some(0)));
    texts(&mut s);
    let ev = r#"427["tick",{"n":1,"s":"abcdefghijklmnop"}]"#;
    assert!(s.handle_text(1, Start { whole: ev, n: 8 }));
    let ack = r#"430[{"long":"answer"}]"#;
    assert!(s.handle_text(1, Start { whole: ack, n: 6 }));
    assert_eq!(
        events(&mut s),
        vec![
            event("/", r#"["tick",{"n":1,"s":"abcdefghijklmnop"}]"#, Some(7)),
            acked("/", 0, r#"[{"long":"answer"}]"#)
        ]
    );
}

#[test]
fn a_start_that_ends_in_the_header_or_a_control_packet_asks_for_the_whole_frame() {
    let mut s = S::new(SessionConfig::default());
    s.connect("/", None, 0);
    s.connect("/second", None, 0);
    s.handle_transport_open(0);
    // The handshake and a namespace's CONNECT are read whole.
    assert!(!s.handle_text(0, Start { whole: OPEN, n: 20 }));
    assert!(events(&mut s).is_empty() && texts(&mut s).is_empty());
    assert!(s.handle_text(0, OPEN));
    texts(&mut s);
    assert!(!s.handle_text(
        1,
        Start {
            whole: r#"40{"sid":"s1"}"#,
            n: 5
        }
    ));
    assert!(!s.is_connected("/"));
    assert!(s.handle_text(1, r#"40{"sid":"s1"}"#));
    assert!(s.handle_text(1, r#"40/second,{"sid":"s2"}"#));
    events(&mut s);
    // Cut inside the ack id, the namespace, or right after the header: nothing is decided.
    for (frame, n) in [
        (r#"4212345["a"]"#, 4),
        (r#"42/second,["a"]"#, 6),
        (r#"42/second,["a"]"#, 10),
        (r#"42["a"]"#, 2),
    ] {
        assert!(
            !s.handle_text(2, Start { whole: frame, n }),
            "{frame} cut at {n}"
        );
    }
    assert!(events(&mut s).is_empty());
    assert!(s.is_connected("/") && s.is_connected("/second"));
    // A start that already shows a malformed header waits for the whole frame to judge it.
    assert!(!s.handle_text(
        2,
        Start {
            whole: "4x garbage",
            n: 3
        }
    ));
    assert!(s.is_connected("/"));
    assert!(s.handle_text(2, "4x garbage"));
    assert!(!s.is_connected("/"));
}

#[test]
fn acks_answer_time_out_and_ignore_late_answers() {
    let mut s = connected();
    let a = s
        .emit("/", r#"["echo",1]"#.into(), vec![], Some(Some(100)), 10)
        .unwrap()
        .unwrap();
    let b = s
        .emit("/", r#"["echo",2]"#.into(), vec![], Some(Some(50)), 10)
        .unwrap()
        .unwrap();
    assert_ne!(a, b);
    assert_eq!(
        texts(&mut s),
        vec![format!(r#"42{a}["echo",1]"#), format!(r#"42{b}["echo",2]"#)]
    );
    assert_eq!(s.poll_timeout(), Some(60));
    s.handle_text(20, &format!("43{a}[1]"));
    assert_eq!(events(&mut s), vec![acked("/", a, "[1]")]);
    s.handle_timeout(60);
    assert_eq!(
        events(&mut s),
        vec![ack_failed("/", b, AckFailure::Timeout)]
    );
    // The answer after the timeout is ignored; a duplicate answer too.
    s.handle_text(70, &format!("43{b}[2]"));
    s.handle_text(70, &format!("43{a}[1]"));
    assert!(events(&mut s).is_empty());
    assert_eq!(s.pending_acks(), 0);
    assert!(s.is_connected("/"));
}

#[test]
fn ack_timeout_can_be_changed() {
    let mut s = connected();
    let id = s
        .emit("/", r#"["x"]"#.into(), vec![], Some(None), 0)
        .unwrap()
        .unwrap();
    assert_eq!(s.poll_timeout(), Some(500), "only the heartbeat");
    assert!(s.set_ack_timeout(id, Some(40), 10));
    assert_eq!(s.poll_timeout(), Some(50));
    s.cancel_ack("/", id);
    assert_eq!(s.pending_acks(), 0);
    assert!(!s.set_ack_timeout(id, Some(1), 10));
}

#[test]
fn client_acks_server_events() {
    let mut s = connected();
    s.handle_text(1, r#"4212["ask",{"q":1}]"#);
    assert_eq!(
        events(&mut s),
        vec![event("/", r#"["ask",{"q":1}]"#, Some(12))]
    );
    s.ack("/", 12, r#"["yes"]"#.into(), vec![]);
    s.ack(
        "/",
        13,
        r#"[{"_placeholder":true,"num":0}]"#.into(),
        vec![vec![7]],
    );
    assert_eq!(
        texts(&mut s),
        vec![
            r#"4312["yes"]"#.to_string(),
            r#"461-13[{"_placeholder":true,"num":0}]"#.to_string(),
            "<bin [7]>".to_string()
        ]
    );
}

#[test]
fn binary_packets_are_assembled() {
    let mut s = connected();
    s.handle_text(
        1,
        r#"452-["bin",{"a":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":1}]"#,
    );
    assert!(events(&mut s).is_empty());
    s.handle_binary(2, vec![1, 2]);
    assert!(events(&mut s).is_empty());
    s.handle_binary(3, vec![3]);
    match events(&mut s).as_slice() {
        [SessionEvent {
            kind: EventKind::Event,
            attachments,
            id,
            ..
        }] => {
            assert_eq!(attachments, &vec![vec![1, 2], vec![3]]);
            assert_eq!(*id, None);
        }
        other => panic!("{other:?}"),
    }
    // Binary emit: header then one frame per attachment.
    s.emit(
        "/",
        r#"["up",{"_placeholder":true,"num":0}]"#.into(),
        vec![vec![9, 9]],
        None,
        4,
    )
    .unwrap();
    assert_eq!(
        texts(&mut s),
        vec![
            r#"451-["up",{"_placeholder":true,"num":0}]"#.to_string(),
            "<bin [9, 9]>".to_string()
        ]
    );
}

#[test]
fn binary_ack_is_assembled() {
    let mut s = connected();
    let id = s
        .emit("/", r#"["echo"]"#.into(), vec![], Some(None), 0)
        .unwrap()
        .unwrap();
    s.handle_text(1, &format!(r#"461-{id}[{{"_placeholder":true,"num":0}}]"#));
    s.handle_binary(2, vec![5]);
    assert!(matches!(
        events(&mut s).as_slice(),
        [SessionEvent { kind: EventKind::Ack, attachments, .. }] if attachments == &vec![vec![5]]
    ));
}

#[test]
fn unexpected_binary_or_text_during_assembly_is_a_parse_error() {
    let mut s = connected();
    s.handle_binary(1, vec![1]);
    assert!(events(&mut s).contains(&disconnected("/", DisconnectReason::ParseError)));
    assert_eq!(commands(&mut s), vec![TransportCommand::Close]);

    let mut s = connected();
    s.handle_text(1, r#"451-["a",{"_placeholder":true,"num":0}]"#);
    s.handle_text(2, r#"42["b"]"#);
    assert!(events(&mut s).contains(&disconnected("/", DisconnectReason::ParseError)));
}

#[test]
fn two_namespaces_share_one_transport() {
    let mut s = S::new(SessionConfig::default());
    s.connect("/", None, 0);
    s.connect("/second", Some(r#"{"k":1}"#.into()), 0);
    assert_eq!(commands(&mut s), vec![TransportCommand::Open]);
    s.handle_transport_open(0);
    s.handle_text(0, OPEN);
    assert_eq!(texts(&mut s), vec!["40", r#"40/second,{"k":1}"#]);
    s.handle_text(1, r#"40/second,{"sid":"b"}"#);
    s.handle_text(1, r#"40{"sid":"a"}"#);
    assert!(s.is_connected("/") && s.is_connected("/second"));
    s.emit("/second", r#"["hi"]"#.into(), vec![], None, 2)
        .unwrap();
    assert_eq!(texts(&mut s), vec![r#"42/second,["hi"]"#]);
    s.handle_text(3, r#"42/second,["yo"]"#);
    s.handle_text(3, r#"42["root"]"#);
    let ev = events(&mut s);
    assert!(ev.contains(&event("/second", r#"["yo"]"#, None)));
    assert!(ev.contains(&event("/", r#"["root"]"#, None)));
    // Disconnecting one keeps the transport for the other.
    s.disconnect("/second", 4);
    assert_eq!(texts(&mut s), vec!["41/second,"]);
    assert!(commands(&mut s).is_empty());
    assert!(s.is_open());
}

#[test]
fn connect_error_is_reported_and_closes_an_unused_transport() {
    let mut s = S::new(SessionConfig::default());
    s.connect("/forbidden", None, 0);
    s.handle_transport_open(0);
    s.handle_text(0, OPEN);
    texts(&mut s);
    commands(&mut s);
    events(&mut s);
    s.handle_text(1, r#"44/forbidden,{"message":"forbidden namespace"}"#);
    assert_eq!(
        events(&mut s),
        vec![
            connect_error("/forbidden", r#"{"message":"forbidden namespace"}"#),
            engine_close(DisconnectReason::IoClientDisconnect)
        ]
    );
    assert_eq!(commands(&mut s), vec![TransportCommand::Close]);
    assert!(!s.is_connected("/forbidden"));
}

#[test]
fn server_disconnect_fails_sent_acks_and_keeps_buffered_ones() {
    let mut s = connected();
    let sent = s
        .emit("/", r#"["x"]"#.into(), vec![], Some(None), 0)
        .unwrap()
        .unwrap();
    assert_eq!(texts(&mut s), vec![format!(r#"42{sent}["x"]"#)]);
    s.handle_text(1, "41");
    let ev = events(&mut s);
    assert!(ev.contains(&ack_failed("/", sent, AckFailure::Disconnected)));
    assert!(ev.contains(&disconnected("/", DisconnectReason::IoServerDisconnect)));
    assert_eq!(commands(&mut s), vec![TransportCommand::Close]);
    // Emitted while disconnected: buffered, its ack still pending.
    let buffered = s
        .emit("/", r#"["y"]"#.into(), vec![], Some(None), 2)
        .unwrap()
        .unwrap();
    assert_eq!(s.buffered("/"), 1);
    s.connect("/", None, 3);
    assert_eq!(commands(&mut s), vec![TransportCommand::Open]);
    s.handle_transport_open(3);
    s.handle_text(3, OPEN);
    s.handle_text(3, r#"40{"sid":"s2"}"#);
    assert_eq!(
        texts(&mut s),
        vec!["40".to_string(), format!(r#"42{buffered}["y"]"#)]
    );
}

#[test]
fn client_disconnect_sends_disconnect_and_closes() {
    let mut s = connected();
    s.disconnect("/", 1);
    assert_eq!(texts(&mut s), vec!["41"]);
    assert_eq!(commands(&mut s), vec![TransportCommand::Close]);
    assert_eq!(
        events(&mut s),
        vec![
            disconnected("/", DisconnectReason::IoClientDisconnect),
            engine_close(DisconnectReason::IoClientDisconnect)
        ]
    );
    // Events after the disconnect are not delivered.
    s.handle_text(2, r#"42["late"]"#);
    assert!(events(&mut s).is_empty());
}

#[test]
fn transport_loss_disconnects_connected_and_fails_pending() {
    let mut s = connected();
    s.connect("/second", None, 0);
    texts(&mut s);
    s.handle_transport_close(5, TransportClosed::Closed);
    assert!(commands(&mut s).is_empty(), "already closed");
    let ev = events(&mut s);
    assert!(ev.contains(&disconnected("/", DisconnectReason::TransportClose)));
    assert!(ev.contains(&failed_to_connect(
        "/second",
        "transport close",
        DisconnectReason::TransportClose
    )));
}

#[test]
fn transport_that_never_opens_reports_connect_error() {
    let mut s = S::new(SessionConfig::default());
    s.connect("/", None, 0);
    commands(&mut s);
    s.handle_transport_close(1, TransportClosed::Error);
    assert_eq!(
        events(&mut s),
        vec![
            failed_to_connect("/", "websocket error", DisconnectReason::TransportError),
            engine_close(DisconnectReason::TransportError)
        ]
    );
    // Over long-polling, worded as socket.io-client words it; the next failure is the
    // transport's own again.
    let mut s = S::new(SessionConfig {
        reconnection: false,
        ..SessionConfig::default()
    });
    for (how, text) in [
        (TransportClosed::PollError, "xhr poll error"),
        (TransportClosed::Error, "websocket error"),
    ] {
        s.connect("/", None, 0);
        commands(&mut s);
        s.handle_transport_close(1, how);
        assert_eq!(
            events(&mut s)[0],
            failed_to_connect("/", text, DisconnectReason::TransportError)
        );
    }
}

#[test]
fn handshake_has_a_deadline() {
    let mut s = S::new(SessionConfig {
        connect_timeout: 1000,
        ..SessionConfig::default()
    });
    s.connect("/", None, 0);
    commands(&mut s);
    s.handle_transport_open(10);
    assert_eq!(s.poll_timeout(), Some(1000));
    s.handle_timeout(1000);
    assert_eq!(commands(&mut s), vec![TransportCommand::Close]);
    // Worded as socket.io-client words an elapsed connect timeout.
    assert_eq!(
        events(&mut s)[..2],
        [
            failed_to_connect("/", "timeout", DisconnectReason::Timeout),
            engine_close(DisconnectReason::Timeout)
        ]
    );
}

#[test]
fn open_keeps_the_link_without_a_namespace_until_its_last_namespace_leaves() {
    let mut s = S::new(SessionConfig::default());
    s.open(0);
    assert_eq!(commands(&mut s), vec![TransportCommand::Open]);
    s.handle_transport_open(1);
    s.handle_text(1, OPEN);
    assert_eq!(events(&mut s), vec![engine_open("eio1")]);
    assert!(!s.is_idle(), "held open by open()");
    // Lost, it reconnects like a link that namespaces use.
    s.handle_transport_close(10, TransportClosed::Closed);
    events(&mut s);
    wait_attempt(&mut s);
    assert_eq!(commands(&mut s), vec![TransportCommand::Open]);
    reopen(&mut s, 2000, "s1");
    s.connect("/", None, 2001);
    s.handle_text(2002, r#"40{"sid":"s1"}"#);
    events(&mut s);
    texts(&mut s);
    // Its last namespace gone, the link closes, as socket.io-client's Manager does.
    s.disconnect("/", 3000);
    assert_eq!(commands(&mut s), vec![TransportCommand::Close]);
    assert!(s.is_idle());
}

#[test]
fn a_forced_close_is_a_loss_that_reconnects() {
    let mut s = connected();
    s.handle_transport_close(5, TransportClosed::Forced);
    assert_eq!(
        events(&mut s),
        vec![
            disconnected("/", DisconnectReason::ForcedClose),
            engine_close(DisconnectReason::ForcedClose)
        ]
    );
    assert!(s.is_reconnecting());
}

#[test]
fn reconnection_tunables_apply_from_the_next_attempt() {
    let mut s = connected();
    s.set_reconnection(
        true,
        1,
        BackoffConfig {
            initial: 50,
            max: 50,
            randomization: 0.0,
        },
        300,
    );
    s.handle_transport_close(100, TransportClosed::Closed);
    events(&mut s);
    assert_eq!(s.poll_timeout(), Some(150));
    s.handle_timeout(150);
    commands(&mut s);
    // The new connect timeout bounds the attempt; one attempt was allowed: it gives up.
    assert_eq!(s.poll_timeout(), Some(450));
    s.handle_timeout(450);
    assert!(kinds(&mut s).contains(&EventKind::ReconnectFailed));
    s.set_reconnection(false, 0, BackoffConfig::default(), 300);
    s.connect("/", None, 500);
    reopen(&mut s, 501, "s2");
    events(&mut s);
    s.handle_transport_close(600, TransportClosed::Closed);
    events(&mut s);
    assert!(!s.is_reconnecting(), "reconnection turned off");
}

#[test]
fn malformed_frames_close_with_parse_error() {
    for bad in [
        "",
        "9",
        "4",
        "47",
        "42",
        "42{}",
        "43[]",
        r#"40{"nosid":1}"#,
        "0{}",
    ] {
        let mut s = connected();
        s.handle_text(1, bad);
        assert!(
            events(&mut s).contains(&disconnected("/", DisconnectReason::ParseError)),
            "{bad:?}"
        );
        assert_eq!(commands(&mut s), vec![TransportCommand::Close], "{bad:?}");
    }
}

#[test]
fn server_close_packet_is_a_transport_close() {
    let mut s = connected();
    s.handle_text(1, "1");
    assert!(events(&mut s).contains(&disconnected("/", DisconnectReason::TransportClose)));
}

#[test]
fn close_disconnects_everything() {
    let mut s = connected();
    let sent = s
        .emit("/", r#"["a"]"#.into(), vec![], Some(None), 0)
        .unwrap()
        .unwrap();
    s.emit("/second", r#"["b"]"#.into(), vec![], None, 0)
        .unwrap();
    let buffered = s
        .emit("/second", r#"["c"]"#.into(), vec![], Some(None), 0)
        .unwrap()
        .unwrap();
    texts(&mut s);
    s.close(1);
    let ev = events(&mut s);
    for id in [sent, buffered] {
        assert!(ev.iter().any(|e| matches!(e,
            SessionEvent { kind: EventKind::AckFailed, id: Some(i), failure: Some(AckFailure::Disconnected), .. } if *i == id)));
    }
    assert_eq!(s.pending_acks(), 0);
    assert_eq!(s.buffered("/second"), 0);
}

#[test]
fn close_sends_disconnect_first() {
    let mut s = connected();
    s.close(1);
    assert_eq!(texts(&mut s), vec!["41"]);
    assert_eq!(commands(&mut s), vec![TransportCommand::Close]);
    assert!(!s.is_open());
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn idle_only_when_nothing_is_held() {
    let s = S::new(SessionConfig::default());
    assert!(s.is_idle());
    let mut s = connected();
    assert!(!s.is_idle(), "connected");
    s.disconnect("/", 1);
    assert!(s.is_idle());
    s.emit("/", r#"["later"]"#.into(), Vec::new(), None, 2)
        .unwrap();
    assert!(!s.is_idle(), "a buffered emit");
    let mut s = connected();
    s.emit("/", r#"["x"]"#.into(), Vec::new(), Some(None), 1)
        .unwrap();
    s.handle_text(2, "41");
    assert!(s.is_idle(), "sent acks failed on disconnect");
}

#[test]
fn outputs_come_in_the_order_they_were_produced() {
    let mut s = connected();
    s.disconnect("/", 1);
    s.connect("/", None, 1);
    let kinds: Vec<String> = std::iter::from_fn(|| s.session.poll_output())
        .map(|o| match o {
            Output::Transmit(t) => format!("send {}", t.text),
            Output::Transport(c) => format!("{c:?}"),
            Output::Event(e) => format!("{:?}", e.kind),
        })
        .collect();
    // The DISCONNECT is written before the transport closes; the new connection comes after.
    assert_eq!(
        kinds,
        ["send 41", "Disconnect", "Close", "EngineClose", "Open"]
    );
}

// ---- reconnection, awareness, retries ----

fn kinds(s: &mut S) -> Vec<EventKind> {
    events(s).into_iter().map(|e| e.kind).collect()
}

/// The event of `kind` with the given id (`ReconnectAttempt`, `Reconnect`).
fn numbered(kind: EventKind, n: u64) -> Ev {
    SessionEvent {
        id: Some(n),
        ..SessionEvent::new(kind, nsp(""), String::new())
    }
}

/// An emit on `/` that asks for an ack; returns its id.
fn emit_ack(s: &mut S, data: &str, timeout: Option<Millis>, now: Millis) -> u64 {
    s.emit("/", data.into(), vec![], Some(timeout), now)
        .unwrap()
        .unwrap()
}

/// The transport of an attempt opens at `at`, the handshake follows, and `/` connects as `sid`.
fn reopen(s: &mut S, at: Millis, sid: &str) {
    s.handle_transport_open(at);
    s.handle_text(at, OPEN);
    s.handle_text(at, &format!(r#"40{{"sid":"{sid}"}}"#));
}

/// The link of `s` is lost at `lost_at`; the next attempt opens it and handshakes. Returns when
/// the attempt started and the frames it wrote (the CONNECTs).
fn next_attempt(s: &mut S, lost_at: Millis) -> (Millis, Vec<String>) {
    s.handle_transport_close(lost_at, TransportClosed::Closed);
    let at = wait_attempt(s);
    s.handle_transport_open(at);
    s.handle_text(at, OPEN);
    (at, texts(s))
}

/// Runs the timer of a session waiting to reconnect; returns when the attempt started.
fn wait_attempt(s: &mut S) -> Millis {
    let at = s.poll_timeout().expect("a reconnection is scheduled");
    s.handle_timeout(at);
    at
}

#[test]
fn a_lost_link_reconnects_after_the_backoff_and_connects_again() {
    let mut s = S::new(SessionConfig::default());
    s.connect("/", Some(r#"{"token":"t"}"#.into()), 0);
    s.handle_transport_open(0);
    s.handle_text(0, OPEN);
    s.handle_text(0, r#"40{"sid":"s1"}"#);
    texts(&mut s);
    events(&mut s);
    commands(&mut s);
    s.handle_transport_close(100, TransportClosed::Closed);
    assert_eq!(
        events(&mut s),
        vec![
            disconnected("/", DisconnectReason::TransportClose),
            engine_close(DisconnectReason::TransportClose)
        ]
    );
    assert!(s.is_reconnecting());
    assert!(!s.is_idle(), "still wanted");
    // socket.io-client's first delay: 1000 ms, jitter 0.5.
    let at = s.poll_timeout().unwrap();
    assert!((600..=1100).contains(&at), "first attempt at {at}");
    // Emits while waiting are buffered for the new connection.
    s.emit("/", r#"["while away"]"#.into(), vec![], None, 200)
        .unwrap();
    s.handle_timeout(at - 1);
    assert!(commands(&mut s).is_empty(), "not yet");
    s.handle_timeout(at);
    assert_eq!(
        events(&mut s),
        vec![numbered(EventKind::ReconnectAttempt, 1)]
    );
    assert_eq!(commands(&mut s), vec![TransportCommand::Open]);
    s.handle_transport_open(at + 5);
    s.handle_text(at + 6, OPEN);
    assert_eq!(texts(&mut s), vec![r#"40{"token":"t"}"#]);
    assert_eq!(
        events(&mut s),
        vec![engine_open("eio1"), numbered(EventKind::Reconnect, 1)]
    );
    assert!(!s.is_reconnecting());
    s.handle_text(at + 7, r#"40{"sid":"s2"}"#);
    assert_eq!(events(&mut s), vec![connected_ev("/", "s2")]);
    assert_eq!(texts(&mut s), vec![r#"42["while away"]"#]);
}

#[test]
fn failed_attempts_back_off_report_errors_and_give_up() {
    let mut s = S::new(SessionConfig {
        reconnection_attempts: 3,
        backoff: backoff::BackoffConfig {
            initial: 100,
            max: 250,
            randomization: 0.0,
        },
        ..SessionConfig::default()
    });
    s.connect("/", None, 0);
    commands(&mut s);
    // The first connection fails: socket.io-client retries it too.
    s.handle_transport_close(0, TransportClosed::Error);
    events(&mut s);
    let mut now = 0;
    let mut delays = vec![];
    for n in 1..=3 {
        let at = wait_attempt(&mut s);
        delays.push(at - now);
        assert_eq!(
            events(&mut s),
            vec![numbered(EventKind::ReconnectAttempt, n)]
        );
        assert_eq!(commands(&mut s), vec![TransportCommand::Open]);
        now = at;
        s.handle_transport_close(now, TransportClosed::Error);
        let ev = kinds(&mut s);
        assert_eq!(
            &ev[..3],
            [
                EventKind::ConnectError,
                EventKind::EngineClose,
                EventKind::ReconnectError
            ]
        );
        if n == 3 {
            assert_eq!(ev[3..], [EventKind::ReconnectFailed]);
        }
    }
    assert_eq!(delays, vec![100, 200, 250], "doubles up to the cap");
    assert_eq!(s.poll_timeout(), None, "gave up");
    assert!(!s.is_reconnecting());
    assert!(s.is_idle());
    // connect() after giving up starts again.
    s.connect("/", None, now + 1);
    assert_eq!(commands(&mut s), vec![TransportCommand::Open]);
}

#[test]
fn no_reconnection_after_the_client_or_the_server_ends_it() {
    // The client's disconnect().
    let mut s = connected();
    s.disconnect("/", 1);
    assert_eq!(s.poll_timeout(), None);
    assert!(!s.is_reconnecting());
    // The server's socket.disconnect().
    let mut s = connected();
    s.handle_text(1, "41");
    assert_eq!(
        events(&mut s),
        vec![
            disconnected("/", DisconnectReason::IoServerDisconnect),
            engine_close(DisconnectReason::IoClientDisconnect)
        ]
    );
    assert_eq!(s.poll_timeout(), None);
    // A middleware's CONNECT_ERROR.
    let mut s = S::new(SessionConfig::default());
    s.connect("/", None, 0);
    s.handle_transport_open(0);
    s.handle_text(0, OPEN);
    s.handle_text(1, r#"44{"message":"no"}"#);
    assert_eq!(
        commands(&mut s),
        vec![TransportCommand::Open, TransportCommand::Close]
    );
    assert_eq!(s.poll_timeout(), None);
    assert!(!s.is_reconnecting());
    // Reconnection turned off.
    let mut s = S::new(SessionConfig {
        reconnection: false,
        ..SessionConfig::default()
    });
    s.connect("/", None, 0);
    s.handle_transport_open(0);
    s.handle_text(0, OPEN);
    s.handle_text(0, r#"40{"sid":"s1"}"#);
    s.handle_transport_close(5, TransportClosed::Closed);
    assert_eq!(s.poll_timeout(), None);
    assert!(s.is_idle());
}

#[test]
fn a_namespace_that_was_refused_stays_out_of_the_reconnection() {
    let mut s = connected();
    s.connect("/forbidden", None, 0);
    s.handle_text(1, r#"44/forbidden,{"message":"no"}"#);
    s.handle_transport_close(2, TransportClosed::Closed);
    wait_attempt(&mut s);
    s.handle_transport_open(2000);
    texts(&mut s);
    s.handle_text(2000, OPEN);
    assert_eq!(texts(&mut s), vec!["40"], "only / connects again");
}

#[test]
fn disconnect_while_waiting_stops_reconnecting_quietly() {
    let mut s = connected();
    s.handle_transport_close(1, TransportClosed::Closed);
    events(&mut s);
    commands(&mut s);
    s.disconnect("/", 2);
    assert_eq!(s.poll_timeout(), None);
    assert!(!s.is_reconnecting());
    assert!(events(&mut s).is_empty(), "the close was already reported");
    assert!(commands(&mut s).is_empty(), "no transport to close");
}

#[test]
fn offline_drops_the_link_and_online_reconnects_at_once() {
    let mut s = connected();
    s.handle_network(10, false);
    assert_eq!(commands(&mut s), vec![TransportCommand::Close]);
    assert!(events(&mut s).contains(&disconnected("/", DisconnectReason::TransportClose)));
    assert!(s.poll_timeout().unwrap() >= 500);
    s.handle_network(20, true);
    assert_eq!(
        events(&mut s),
        vec![numbered(EventKind::ReconnectAttempt, 1)]
    );
    assert_eq!(commands(&mut s), vec![TransportCommand::Open]);
    // Online while connected changes nothing.
    let mut s = connected();
    s.handle_network(10, true);
    assert!(commands(&mut s).is_empty());
    assert!(s.is_connected("/"));
}

#[test]
fn becoming_visible_judges_the_heartbeat_and_hurries_a_reconnection() {
    // A hidden tab's timer never fired: the heartbeat deadline (500) has long passed.
    let mut s = connected();
    s.handle_visible(10_000);
    assert!(events(&mut s).contains(&disconnected("/", DisconnectReason::PingTimeout)));
    assert_eq!(
        commands(&mut s),
        vec![TransportCommand::Close, TransportCommand::Open],
        "dead, then straight into an attempt"
    );
    // Visible with a healthy link: nothing happens.
    let mut s = connected();
    s.handle_visible(100);
    assert!(commands(&mut s).is_empty());
}

#[test]
fn throttled_emits_go_to_the_buffer_and_out_after_reconnecting() {
    // The timer of a busy page did not fire; the emit finds the link dead on the clock.
    let mut s = connected();
    let id = emit_ack(&mut s, r#"["late"]"#, None, 10_000);
    assert!(
        texts(&mut s).is_empty(),
        "nothing written into the dead link"
    );
    let at = wait_attempt(&mut s);
    reopen(&mut s, at, "s2");
    assert_eq!(
        texts(&mut s),
        vec![
            "40",
            r#"42["late"]"#.replace("42", &format!("42{id}")).as_str()
        ]
    );
    events(&mut s);
    s.handle_text(at + 1, &format!("43{id}[1]"));
    assert_eq!(events(&mut s), vec![acked("/", id, "[1]")]);
}

#[test]
fn auth_is_asked_for_on_every_connect() {
    let mut s = S::new(SessionConfig::default());
    s.connect_asking_auth("/", 0);
    s.handle_transport_open(0);
    s.handle_text(0, OPEN);
    let ask = SessionEvent::new(EventKind::AuthRequest, nsp("/"), String::new());
    assert_eq!(events(&mut s), vec![engine_open("eio1"), ask.clone()]);
    assert!(texts(&mut s).is_empty(), "no CONNECT before the auth");
    s.provide_auth("/", Some(r#"{"n":1}"#.into()));
    assert_eq!(texts(&mut s), vec![r#"40{"n":1}"#]);
    s.handle_text(1, r#"40{"sid":"s1"}"#);
    s.handle_transport_close(2, TransportClosed::Closed);
    events(&mut s);
    let at = wait_attempt(&mut s);
    s.handle_transport_open(at);
    s.handle_text(at, OPEN);
    assert!(events(&mut s).contains(&ask));
    // A late answer after the link is gone is ignored.
    s.handle_transport_close(at + 1, TransportClosed::Closed);
    s.provide_auth("/", Some(r#"{"n":2}"#.into()));
    assert!(texts(&mut s).is_empty());
}

#[test]
fn volatile_emits_are_dropped_when_not_connected() {
    let mut s = connected();
    assert!(s.emit_volatile("/", r#"["v"]"#.into(), vec![], 1));
    assert_eq!(texts(&mut s), vec![r#"42["v"]"#]);
    s.handle_transport_close(2, TransportClosed::Closed);
    assert!(!s.emit_volatile("/", r#"["v"]"#.into(), vec![], 3));
    assert!(texts(&mut s).is_empty());
    assert_eq!(s.buffered("/"), 0);
}

#[test]
fn the_buffer_can_be_read_and_cleared_and_refuses_what_overflows() {
    let mut s = S::new(SessionConfig {
        max_buffer: 2,
        ..SessionConfig::default()
    });
    let a = emit_ack(&mut s, r#"["a"]"#, None, 0);
    s.emit("/", r#"["b"]"#.into(), vec![], None, 0).unwrap();
    assert_eq!(
        s.emit("/", r#"["c"]"#.into(), vec![], None, 0),
        Err(EmitError::BufferFull)
    );
    let held: Vec<&String> = s.buffer("/").collect();
    assert_eq!(held, [r#"["a"]"#, r#"["b"]"#], "the oldest are kept");
    events(&mut s);
    s.clear_buffer("/");
    assert_eq!(s.buffered("/"), 0);
    assert_eq!(
        events(&mut s),
        vec![ack_failed("/", a, AckFailure::Disconnected)]
    );
    assert_eq!(s.pending_acks(), 0);
}

fn with_retries(retries: u32) -> S {
    connected_with(SessionConfig {
        retries,
        ..SessionConfig::default()
    })
}

#[test]
fn retries_send_one_at_a_time_in_order_and_resend_until_acked() {
    let mut s = with_retries(2);
    let a = emit_ack(&mut s, r#"["a"]"#, Some(100), 0);
    let b = emit_ack(&mut s, r#"["b"]"#, Some(100), 0);
    // Packets without ack pass straight.
    s.emit("/", r#"["plain"]"#.into(), vec![], None, 0).unwrap();
    assert_eq!(
        texts(&mut s),
        vec![format!("42{a}[\"a\"]"), r#"42["plain"]"#.into()]
    );
    // The first try times out: the same packet, same id, goes again.
    s.handle_text(50, "2");
    texts(&mut s);
    s.handle_timeout(100);
    assert!(events(&mut s).is_empty(), "not failed: it has tries left");
    assert_eq!(texts(&mut s), vec![format!("42{a}[\"a\"]")]);
    // Acked: b goes next.
    s.handle_text(150, &format!("43{a}[\"ok\"]"));
    assert_eq!(events(&mut s), vec![acked("/", a, r#"["ok"]"#)]);
    assert_eq!(texts(&mut s), vec![format!("42{b}[\"b\"]")]);
    // b times out on all of its 1 + 2 tries, then fails.
    s.handle_text(200, "2");
    texts(&mut s);
    s.handle_timeout(250);
    s.handle_text(300, "2");
    s.handle_timeout(350);
    assert_eq!(texts(&mut s).len(), 3, "pong, try 2, pong, try 3");
    assert!(events(&mut s).is_empty());
    s.handle_text(400, "2");
    s.handle_timeout(450);
    assert_eq!(
        events(&mut s),
        vec![ack_failed("/", b, AckFailure::Timeout)]
    );
    assert_eq!(s.pending_acks(), 0);
    assert!(s.is_idle() || s.is_connected("/"));
}

#[test]
fn retries_survive_a_reconnection_and_count_it_as_a_try() {
    let mut s = with_retries(1);
    let a = emit_ack(&mut s, r#"["a"]"#, None, 0);
    let b = emit_ack(&mut s, r#"["b"]"#, None, 0);
    assert_eq!(texts(&mut s).len(), 1);
    s.handle_transport_close(10, TransportClosed::Closed);
    assert!(
        !events(&mut s)
            .iter()
            .any(|e| e.kind == EventKind::AckFailed),
        "a has a try left"
    );
    let at = wait_attempt(&mut s);
    reopen(&mut s, at, "s2");
    assert_eq!(
        texts(&mut s),
        vec!["40".into(), format!("42{a}[\"a\"]")],
        "a again, b waits"
    );
    // Lost again: a is out of tries, b has never been written.
    s.handle_transport_close(at + 10, TransportClosed::Closed);
    let failed: Vec<u64> = events(&mut s)
        .into_iter()
        .filter(|e| e.kind == EventKind::AckFailed)
        .filter_map(|e| e.id)
        .collect();
    assert_eq!(failed, vec![a]);
    let at = wait_attempt(&mut s);
    reopen(&mut s, at, "s3");
    assert_eq!(texts(&mut s), vec!["40".into(), format!("42{b}[\"b\"]")]);
}

#[test]
fn packets_held_while_disconnected_do_not_wait_behind_the_retry_queue() {
    // As socket.io-client: on connect its buffer goes at once, in order; its queue one packet
    // at a time. A volatile emit that found the link dead was held behind a queued packet and
    // arrived after later volatile emits (a chaos run with seed 7).
    let mut s = with_retries(1);
    let a = emit_ack(&mut s, r#"["a"]"#, None, 0);
    let b = emit_ack(&mut s, r#"["b"]"#, None, 0);
    assert_eq!(texts(&mut s), vec![format!("42{a}[\"a\"]")]);
    s.handle_transport_close(10, TransportClosed::Closed);
    s.emit("/", r#"["held",1]"#.into(), vec![], None, 11)
        .unwrap();
    s.emit("/", r#"["held",2]"#.into(), vec![], None, 12)
        .unwrap();
    let at = wait_attempt(&mut s);
    reopen(&mut s, at, "s2");
    assert_eq!(
        texts(&mut s),
        vec![
            "40".into(),
            r#"42["held",1]"#.into(),
            r#"42["held",2]"#.into(),
            format!("42{a}[\"a\"]"),
        ],
        "the held packets, then the head of the queue; b waits for a's ack"
    );
    // Once connected, a plain emit passes the queue at once, and a's ack lets b go.
    s.emit("/", r#"["now"]"#.into(), vec![], None, at + 1)
        .unwrap();
    assert_eq!(texts(&mut s), vec![r#"42["now"]"#.to_string()]);
    s.handle_text(at + 2, &format!("43{a}[\"ok\"]"));
    assert_eq!(texts(&mut s), vec![format!("42{b}[\"b\"]")]);
}

//! The chaos workload's events on `/` (`tests/chaos/`), served with `--chaos-log FILE` to
//! sockets whose handshake auth has `chaos` (the client's name). What they do is appended to
//! `FILE` as JSON lines, written before the event is answered, so that a server killed with
//! SIGKILL has logged everything it did (the format: `tests/servers/chaos-log.mjs`).
//!
//! | client emits             | server does                                                          |
//! |--------------------------|----------------------------------------------------------------------|
//! | `chaos:emit` (n, ack)    | logs it; acks `n`                                                    |
//! | `chaos:volatile` (n)     | logs it                                                              |
//! | `chaos:feed` (ms, ack)   | from now on, every `ms` (10..60000), emits `chaos:tick` (socket id, k) to this socket, `k` counting per client; `0` stops; acks `true` |
//! | `chaos:members` (room, ack) | acks the ids of the room's members, as the server sees them       |

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::future::{ready, Ready};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::SocketIo;
use tokio::time::MissedTickBehavior;

use crate::rooms;

/// The log, once `--chaos-log` opened it.
static LOG: OnceLock<Mutex<File>> = OnceLock::new();

/// Each client's last tick number.
static TICKS: Mutex<Option<HashMap<String, u64>>> = Mutex::new(None);

/// Opens (appending) the log at `path` and records the server's start.
pub fn open(path: &Path) -> std::io::Result<()> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    if LOG.set(Mutex::new(file)).is_err() {
        return Err(std::io::Error::other("the chaos log is already open"));
    }
    let boot = now_ms();
    record(json!({ "e": "boot", "b": format!("{boot:x}") }));
    Ok(())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Appends one line: `fields` with the time (`at`, ms since the epoch).
fn record(mut fields: Value) {
    let Some(log) = LOG.get() else { return };
    if let Value::Object(map) = &mut fields {
        map.insert("at".into(), now_ms().into());
    }
    let mut line = fields.to_string();
    line.push('\n');
    let mut file = log.lock().unwrap_or_else(PoisonError::into_inner);
    // A failed write loses a line; the run's checks then report what it lacks.
    let _ = file.write_all(line.as_bytes());
}

/// A client's name: 1..64 characters of `[A-Za-z0-9._-]`.
fn client_name(auth: &Option<Value>) -> Option<String> {
    let name = auth.as_ref()?.get("chaos")?.as_str()?;
    let valid = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    valid.then(|| name.to_owned())
}

fn next_tick(client: &str) -> u64 {
    let mut ticks = TICKS.lock().unwrap_or_else(PoisonError::into_inner);
    let k = ticks
        .get_or_insert_with(HashMap::new)
        .entry(client.to_owned())
        .or_insert(0);
    *k += 1;
    *k
}

/// Serves the chaos events to `socket` if the log is open and its auth names a client.
pub fn register<A: Adapter>(socket: &SocketRef<A>, auth: &Option<Value>) {
    if LOG.get().is_none() {
        return;
    }
    let Some(c) = client_name(auth) else { return };
    let c = Arc::new(c);
    let s = socket.id.to_string();
    record(json!({ "e": "connect", "c": *c, "s": s, "recovered": false }));

    let (name, sid) = (Arc::clone(&c), s.clone());
    socket.on(
        "chaos:emit",
        move |Data(n): Data<u64>, ack: AckSender<A>| -> Ready<()> {
            record(json!({ "e": "emit", "c": *name, "s": sid, "n": n }));
            let _ = ack.send(&n);
            ready(())
        },
    );
    let (name, sid) = (Arc::clone(&c), s.clone());
    socket.on("chaos:volatile", move |Data(n): Data<u64>| -> Ready<()> {
        record(json!({ "e": "volatile", "c": *name, "s": sid, "n": n }));
        ready(())
    });

    // The feed's generation: each `chaos:feed` starts a new one and so ends the running feed.
    // A tick is sent under the lock and only while its feed is current, so that no tick of a
    // stopped feed follows the stop's ack (the runtime has several threads).
    let generation: Arc<Mutex<u64>> = Arc::default();
    socket.on(
        "chaos:feed",
        move |socket: SocketRef<A>, Data(ms): Data<u64>, ack: AckSender<A>| -> Ready<()> {
            let mine = {
                let mut current = generation.lock().unwrap_or_else(PoisonError::into_inner);
                *current += 1;
                *current
            };
            if (10..=60_000).contains(&ms) {
                let (c, s, generation) = (Arc::clone(&c), s.clone(), Arc::clone(&generation));
                tokio::spawn(async move {
                    let mut every = tokio::time::interval(Duration::from_millis(ms));
                    // A late tick does not bring a burst of the missed ones.
                    every.set_missed_tick_behavior(MissedTickBehavior::Delay);
                    every.tick().await;
                    loop {
                        every.tick().await;
                        let current = generation.lock().unwrap_or_else(PoisonError::into_inner);
                        if *current != mine || !socket.connected() {
                            break;
                        }
                        let k = next_tick(&c);
                        record(json!({ "e": "tick", "c": *c, "s": s, "k": k }));
                        let _ = socket.emit("chaos:tick", &(s.as_str(), k));
                        drop(current);
                    }
                });
            }
            let _ = ack.send(&true);
            ready(())
        },
    );

    socket.on("chaos:members", on_members::<A>);
}

/// Acks the ids of the members of a room, over every socket of the namespace.
async fn on_members<A: Adapter>(io: SocketIo<A>, Data(room): Data<String>, ack: AckSender<A>) {
    let names = io.rooms().await.unwrap_or_default();
    let mut ids: Vec<String> = rooms::members_of(&room, names.iter().map(|r| r.as_ref()))
        .into_iter()
        .map(|m| m.id)
        .collect();
    ids.sort();
    let _ = ack.send(&ids);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names() {
        let auth = |v: Value| Some(json!({ "chaos": v }));
        assert_eq!(
            client_name(&auth(json!("ws-node-a"))),
            Some("ws-node-a".into())
        );
        assert_eq!(client_name(&auth(json!(""))), None);
        assert_eq!(client_name(&auth(json!("a b"))), None);
        assert_eq!(client_name(&auth(json!("x".repeat(65)))), None);
        assert_eq!(client_name(&auth(json!(7))), None);
        assert_eq!(client_name(&None), None);
        assert_eq!(client_name(&Some(json!("chaos"))), None);
    }

    #[test]
    fn ticks_count_per_client() {
        let a = next_tick("tick-test-a");
        assert_eq!(next_tick("tick-test-a"), a + 1);
        assert_eq!(next_tick("tick-test-b"), 1);
    }
}

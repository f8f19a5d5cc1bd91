//! The table of acknowledgements the client is waiting for.

use alloc::vec::Vec;

use super::Millis;

/// One emitted packet that asked for an acknowledgement.
#[derive(Debug)]
pub(crate) struct PendingAck {
    pub id: u64,
    pub nsp: super::Nsp,
    /// When the ack fails with a timeout, if it has a timeout.
    pub deadline: Option<Millis>,
    /// Whether the packet has been written to a transport (buffered packets have not).
    pub sent: bool,
}

/// Pending acks in the order they were emitted.
///
/// Answers usually come back in order, so the one looked for is near the front; a linear scan
/// is as fast there as a binary search and keeps the table correct when ids wrap.
#[derive(Debug, Default)]
pub(crate) struct AckTable {
    entries: Vec<PendingAck>,
}

impl AckTable {
    pub fn insert(&mut self, ack: PendingAck) {
        self.entries.push(ack);
    }

    fn position(&self, id: u64) -> Option<usize> {
        self.entries.iter().position(|e| e.id == id)
    }

    /// Removes and returns the ack `id` if it belongs to `nsp`.
    pub fn take(&mut self, nsp: &str, id: u64) -> Option<PendingAck> {
        let at = self.position(id)?;
        if self.entries.get(at).is_some_and(|e| *e.nsp == nsp) {
            crate::take(&mut self.entries, at)
        } else {
            None
        }
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut PendingAck> {
        self.entries.iter_mut().find(|e| e.id == id)
    }

    /// The earliest deadline of all pending acks.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.entries.iter().filter_map(|e| e.deadline).min()
    }

    /// Keeps the acks for which `keep` returns true, in order.
    pub fn retain(&mut self, keep: impl FnMut(&mut PendingAck) -> bool) {
        self.entries.retain_mut(keep);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

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

/// Pending acks ordered by id.
///
/// Ids are handed out in increasing order, so pushing keeps the table sorted and lookups are
/// binary searches; answers usually come back in order, so removals are near the front.
#[derive(Debug, Default)]
pub(crate) struct AckTable {
    entries: Vec<PendingAck>,
}

impl AckTable {
    pub fn insert(&mut self, ack: PendingAck) {
        match self.entries.last() {
            Some(last) if last.id >= ack.id => {
                let at = self.entries.partition_point(|e| e.id < ack.id);
                self.entries.insert(at, ack);
            }
            _ => self.entries.push(ack),
        }
    }

    fn position(&self, id: u64) -> Option<usize> {
        self.entries.binary_search_by_key(&id, |e| e.id).ok()
    }

    /// Removes and returns the ack `id` if it belongs to `nsp`.
    pub fn take(&mut self, nsp: &str, id: u64) -> Option<PendingAck> {
        let at = self.position(id)?;
        if self.entries.get(at).is_some_and(|e| *e.nsp == nsp) {
            Some(self.entries.remove(at))
        } else {
            None
        }
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut PendingAck> {
        let at = self.position(id)?;
        self.entries.get_mut(at)
    }

    /// The earliest deadline of all pending acks.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.entries.iter().filter_map(|e| e.deadline).min()
    }

    /// Removes every ack.
    pub fn take_all(&mut self) -> Vec<PendingAck> {
        core::mem::take(&mut self.entries)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

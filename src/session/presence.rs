//! Presence bookkeeping for a room of the rooms convention (`ROOMS.md`): the members a client
//! knows of, and the changes to report when the server tells it something.
//!
//! Pure and generic over the member's `meta`, so the front doors keep their own payload type.
//! Changes are about the *other* members: the client's own id (old and new, after a reconnect
//! gave it a new one) never raises one.

use alloc::string::String;
use alloc::vec::Vec;

/// A member of a room: its socket id and the metadata it joined with.
#[derive(Debug, Clone, PartialEq)]
pub struct Member<M> {
    /// The member's socket id.
    pub id: String,
    /// What the member joined with.
    pub meta: M,
}

/// A change of the members, to report to the application.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<M> {
    /// A member came.
    Join(Member<M>),
    /// A member went (as it was last known).
    Leave(Member<M>),
    /// A member joined again with other metadata.
    Update(Member<M>),
}

/// A change the server told while a join waited for its answer (see [`Presence::sync_with`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Told<M> {
    /// `joined` or `updated`.
    Joined(Member<M>),
    /// `left`, with the member's id.
    Left(String),
}

/// The members of one room, as last told by the server.
#[derive(Debug, Clone)]
pub struct Presence<M> {
    members: Vec<Member<M>>,
    /// This client's id when the list was last synced.
    me: Option<String>,
}

impl<M> Default for Presence<M> {
    fn default() -> Self {
        Presence {
            members: Vec::new(),
            me: None,
        }
    }
}

impl<M: Clone + PartialEq> Presence<M> {
    /// The members, this client included.
    pub fn members(&self) -> &[Member<M>] {
        &self.members
    }

    /// The member with socket id `id`.
    pub fn get(&self, id: &str) -> Option<&Member<M>> {
        self.members.iter().find(|m| m.id == id)
    }

    /// Whether the room was ever synced (joined).
    pub fn synced(&self) -> bool {
        self.me.is_some()
    }

    /// Replaces the members with `list` (the answer to a join or re-join; `me` is this client's
    /// id now) and returns what changed for the other members: every member seen before and
    /// still there with the same metadata raises nothing, so a re-join after a reconnect reports
    /// only what really changed. A member listed twice counts once (the last entry wins).
    pub fn sync(&mut self, list: Vec<Member<M>>, me: &str) -> Vec<Change<M>> {
        let mut next: Vec<Member<M>> = Vec::with_capacity(list.len());
        for m in list {
            match next.iter_mut().find(|n| n.id == m.id) {
                Some(n) => *n = m,
                None => next.push(m),
            }
        }
        let old = core::mem::replace(&mut self.members, next);
        let old_me = self.me.replace(me.into());
        let mut changes = Vec::new();
        for o in &old {
            let own = Some(&o.id) == old_me.as_ref() || o.id == me;
            if !own && self.get(&o.id).is_none() {
                changes.push(Change::Leave(o.clone()));
            }
        }
        for m in &self.members {
            if m.id == me {
                continue;
            }
            match old.iter().find(|o| o.id == m.id) {
                None => changes.push(Change::Join(m.clone())),
                Some(o) if o.meta != m.meta => changes.push(Change::Update(m.clone())),
                Some(_) => {}
            }
        }
        changes
    }

    /// Like [`sync`](Self::sync), with the changes told while the join waited for its answer
    /// applied on top of `list`, in order: the server may have read its list before another
    /// socket joined or left at the same moment, and then told this client of it before
    /// answering. Every such change is later than this client's own join, and one applied again
    /// does no harm. A `left` of this client's own id is ignored.
    pub fn sync_with(
        &mut self,
        mut list: Vec<Member<M>>,
        told: Vec<Told<M>>,
        me: &str,
    ) -> Vec<Change<M>> {
        for t in told {
            match t {
                Told::Joined(m) => match list.iter_mut().find(|x| x.id == m.id) {
                    Some(x) => *x = m,
                    None => list.push(m),
                },
                Told::Left(id) if id != me => list.retain(|x| x.id != id),
                Told::Left(_) => {}
            }
        }
        self.sync(list, me)
    }

    /// A member joined or updated its metadata (`joined` / `updated` from the server). Nothing
    /// when it is this client or nothing changed.
    pub fn joined(&mut self, member: Member<M>) -> Option<Change<M>> {
        if Some(&member.id) == self.me.as_ref() {
            return None;
        }
        match self.members.iter_mut().find(|m| m.id == member.id) {
            None => {
                self.members.push(member.clone());
                Some(Change::Join(member))
            }
            Some(m) if m.meta != member.meta => {
                *m = member.clone();
                Some(Change::Update(member))
            }
            Some(_) => None,
        }
    }

    /// Member `id` left (`left` from the server). Nothing when it was not known or is this client.
    pub fn left(&mut self, id: &str) -> Option<Change<M>> {
        if Some(id) == self.me.as_deref() {
            return None;
        }
        let at = self.members.iter().position(|m| m.id == id)?;
        crate::take(&mut self.members, at).map(Change::Leave)
    }

    /// Forgets every member; returns the others as `Leave` changes.
    pub fn clear(&mut self) -> Vec<Change<M>> {
        let me = self.me.take();
        core::mem::take(&mut self.members)
            .into_iter()
            .filter(|m| Some(&m.id) != me.as_ref())
            .map(Change::Leave)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn m(id: &str, meta: u32) -> Member<u32> {
        Member {
            id: id.into(),
            meta,
        }
    }

    #[test]
    fn a_first_sync_reports_the_others_as_joins() {
        let mut p = Presence::default();
        assert!(!p.synced());
        let changes = p.sync(vec![m("a", 1), m("b", 2)], "a");
        assert_eq!(changes, vec![Change::Join(m("b", 2))]);
        assert!(p.synced());
        assert_eq!(p.members(), &[m("a", 1), m("b", 2)]);
    }

    #[test]
    fn presence_messages_join_update_and_leave_once() {
        let mut p = Presence::default();
        p.sync(vec![m("a", 1)], "a");
        assert_eq!(p.joined(m("b", 2)), Some(Change::Join(m("b", 2))));
        // The same `joined` twice (a re-sent join) is not a second join.
        assert_eq!(p.joined(m("b", 2)), None);
        assert_eq!(p.joined(m("b", 3)), Some(Change::Update(m("b", 3))));
        assert_eq!(p.left("b"), Some(Change::Leave(m("b", 3))));
        assert_eq!(p.left("b"), None);
        assert_eq!(p.left("x"), None);
        // About this client: nothing.
        assert_eq!(p.joined(m("a", 9)), None);
        assert_eq!(p.left("a"), None);
        assert_eq!(p.members(), &[m("a", 1)]);
    }

    #[test]
    fn a_re_join_after_a_restart_reports_each_real_change_once() {
        // Before: a (this client) and b. The server restarted: every id is new.
        // Our re-join answered first: only us.
        let mut p = Presence::default();
        p.sync(vec![m("a", 1), m("b", 2)], "a");
        let changes = p.sync(vec![m("a2", 1)], "a2");
        assert_eq!(changes, vec![Change::Leave(m("b", 2))]);
        assert_eq!(p.joined(m("b2", 2)), Some(Change::Join(m("b2", 2))));

        // Or b's re-join came first: the answer lists both.
        let mut p = Presence::default();
        p.sync(vec![m("a", 1), m("b", 2)], "a");
        let changes = p.sync(vec![m("b2", 2), m("a2", 1)], "a2");
        assert_eq!(
            changes,
            vec![Change::Leave(m("b", 2)), Change::Join(m("b2", 2))]
        );
        // ... and a late `joined` for b2 is no second join.
        assert_eq!(p.joined(m("b2", 2)), None);
    }

    #[test]
    fn a_re_join_that_keeps_the_ids_reports_only_changes() {
        let mut p = Presence::default();
        p.sync(vec![m("a", 1), m("b", 2), m("c", 3)], "a");
        let changes = p.sync(vec![m("a", 1), m("b", 5), m("d", 4)], "a");
        assert_eq!(
            changes,
            vec![
                Change::Leave(m("c", 3)),
                Change::Update(m("b", 5)),
                Change::Join(m("d", 4))
            ]
        );
    }

    #[test]
    fn duplicates_in_a_list_count_once_and_clear_reports_the_others() {
        let mut p = Presence::default();
        let changes = p.sync(vec![m("b", 1), m("a", 0), m("b", 2)], "a");
        assert_eq!(changes, vec![Change::Join(m("b", 2))]);
        assert_eq!(p.members().len(), 2);
        assert_eq!(p.clear(), vec![Change::Leave(m("b", 2))]);
        assert!(p.members().is_empty());
        assert!(!p.synced());
    }

    #[test]
    fn changes_told_before_the_answer_go_on_top_of_its_list() {
        let mut p = Presence::default();
        let told = vec![
            Told::Joined(m("b", 2)),
            Told::Joined(m("gone", 3)),
            Told::Left("gone".into()),
            Told::Joined(m("c", 9)),
            Told::Left("me".into()),
            Told::Left("d".into()),
        ];
        let list = vec![m("me", 1), m("c", 4), m("d", 5)];
        let changes = p.sync_with(list, told, "me");
        assert_eq!(
            changes,
            vec![Change::Join(m("c", 9)), Change::Join(m("b", 2))]
        );
        let mut ids: Vec<_> = p
            .members()
            .iter()
            .map(|x| (x.id.as_str(), x.meta))
            .collect();
        ids.sort();
        assert_eq!(ids, vec![("b", 2), ("c", 9), ("me", 1)]);
        // Nothing told: the same as `sync`.
        let mut q = Presence::default();
        assert_eq!(
            q.sync_with(vec![m("me", 1), m("x", 1)], Vec::new(), "me"),
            vec![Change::Join(m("x", 1))]
        );
    }
}

//! What a switch really holds, fetched on behalf of the API: its flow
//! entries (all tables, with counters) and its group descriptions, from
//! OFPMP_FLOW and OFPMP_GROUP_DESC replies matched to the requests by
//! transaction id (replies may come in several parts). A dump fails when
//! the switch answers a request with an error, sends more than
//! [`MAX_ENTRIES`] entries, or has not finished within [`DEADLINE`].

use edgeflow_api::model;
use edgeflow_proto::ofp::{
    FlowStatsRequest, Message, MultipartReplyBody, MultipartRequest, MultipartRequestBody,
};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Most flow entries and groups one dump collects.
pub const MAX_ENTRIES: usize = 200_000;
/// How long a switch has to finish a dump.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// An answer: the token the request was made with, and the dump or why none.
pub type Answer = (u64, Result<model::SwitchDump, String>);

#[derive(Debug)]
struct Pending {
    token: u64,
    dpid: u64,
    deadline: Instant,
    flow_xid: u32,
    group_xid: u32,
    dump: model::SwitchDump,
    flows_done: bool,
    groups_done: bool,
}

/// Dumps under way and answers ready.
#[derive(Debug, Default)]
pub struct Dumps {
    pending: Vec<Pending>,
    done: VecDeque<Answer>,
}

/// The two requests a dump sends: flows of every table, then group descriptions.
pub fn requests() -> [Message; 2] {
    [
        MultipartRequestBody::Flow(FlowStatsRequest::all()),
        MultipartRequestBody::GroupDesc,
    ]
    .map(|body| Message::MultipartRequest(MultipartRequest { flags: 0, body }))
}

impl Dumps {
    /// A dump of `dpid` was requested with these transaction ids.
    pub fn start(
        &mut self,
        now: Instant,
        token: u64,
        dpid: u64,
        (flow_xid, group_xid): (u32, u32),
    ) {
        self.pending.push(Pending {
            token,
            dpid,
            deadline: now + DEADLINE,
            flow_xid,
            group_xid,
            dump: model::SwitchDump {
                dpid: model::Dpid(dpid),
                flows: Vec::new(),
                groups: Vec::new(),
            },
            flows_done: false,
            groups_done: false,
        });
    }

    /// The dump under way that sent transaction `xid` to `dpid`.
    fn find(&self, dpid: u64, xid: u32) -> Option<usize> {
        self.pending
            .iter()
            .position(|p| p.dpid == dpid && (p.flow_xid == xid || p.group_xid == xid))
    }

    /// A multipart reply part from `dpid`; true if it belonged to a dump.
    pub fn reply(&mut self, dpid: u64, xid: u32, more: bool, body: &MultipartReplyBody) -> bool {
        let Some(i) = self.find(dpid, xid) else {
            return false;
        };
        let p = &mut self.pending[i];
        fn json(v: &impl serde::Serialize) -> serde_json::Value {
            serde_json::to_value(v).unwrap_or_default()
        }
        match body {
            MultipartReplyBody::Flow(flows) if p.flow_xid == xid => {
                p.dump.flows.extend(flows.iter().map(json));
                p.flows_done = !more;
            }
            MultipartReplyBody::GroupDesc(groups) if p.group_xid == xid => {
                p.dump.groups.extend(groups.iter().map(json));
                p.groups_done = !more;
            }
            _ => return false,
        }
        if p.dump.flows.len() + p.dump.groups.len() > MAX_ENTRIES {
            let p = self.pending.swap_remove(i);
            let reason = format!("switch {dpid:016x} sent more than {MAX_ENTRIES} entries");
            self.done.push_back((p.token, Err(reason)));
        } else if p.flows_done && p.groups_done {
            let p = self.pending.swap_remove(i);
            self.done.push_back((p.token, Ok(p.dump)));
        }
        true
    }

    /// The switch answered transaction `xid` with an error: if it was a
    /// dump's request, the dump fails; true if so.
    pub fn error(&mut self, dpid: u64, xid: u32) -> bool {
        let Some(i) = self.find(dpid, xid) else {
            return false;
        };
        let p = self.pending.swap_remove(i);
        let reason = format!("switch {dpid:016x} refused the request with an error");
        self.done.push_back((p.token, Err(reason)));
        true
    }

    /// Fails the dumps past their deadline.
    pub fn expire(&mut self, now: Instant) {
        let (late, kept) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| p.deadline <= now);
        self.pending = kept;
        for p in late {
            let reason = format!("switch {:016x} did not finish within {DEADLINE:?}", p.dpid);
            self.done.push_back((p.token, Err(reason)));
        }
    }

    /// The earliest deadline of a dump under way.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.iter().map(|p| p.deadline).min()
    }

    /// The switch left before answering.
    pub fn switch_gone(&mut self, dpid: u64) {
        let (gone, kept) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| p.dpid == dpid);
        self.pending = kept;
        for p in gone {
            let reason = format!("switch {dpid:016x} disconnected before answering");
            self.done.push_back((p.token, Err(reason)));
        }
    }

    /// The next finished dump.
    pub fn poll(&mut self) -> Option<Answer> {
        self.done.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dump_fails_on_an_error_reply_or_after_its_deadline() {
        let t0 = Instant::now();
        let mut d = Dumps::default();
        d.start(t0, 1, 7, (10, 11));
        d.start(t0, 2, 8, (20, 21));
        assert!(!d.error(7, 99), "another transaction");
        assert!(d.error(7, 11));
        let (token, r) = d.poll().unwrap();
        assert_eq!(token, 1);
        assert!(r.unwrap_err().contains("error"));
        assert_eq!(d.poll_timeout(), Some(t0 + DEADLINE));
        d.expire(t0 + DEADLINE - Duration::from_millis(1));
        assert!(d.poll().is_none());
        d.expire(t0 + DEADLINE);
        let (token, r) = d.poll().unwrap();
        assert_eq!(token, 2);
        assert!(r.unwrap_err().contains("did not finish"));
        assert_eq!(d.poll_timeout(), None);
    }

    #[test]
    fn a_dump_that_grows_too_large_fails() {
        let mut d = Dumps::default();
        d.start(Instant::now(), 1, 7, (10, 11));
        let group = edgeflow_proto::ofp::GroupDesc {
            group_type: edgeflow_proto::ofp::GroupType::Select,
            group_id: 1,
            buckets: Vec::new(),
        };
        let part = MultipartReplyBody::GroupDesc(vec![group; 1000]);
        let mut parts = 0;
        while d.poll().is_none() {
            assert!(d.reply(7, 11, true, &part));
            parts += 1;
            assert!(parts <= MAX_ENTRIES / 1000 + 1, "never cut off");
        }
        assert!(!d.reply(7, 11, true, &part), "forgotten once failed");
    }
}

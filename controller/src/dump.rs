//! What a switch really holds, fetched on behalf of the API: its flow
//! entries (all tables, with counters) and its group descriptions, from
//! OFPMP_FLOW and OFPMP_GROUP_DESC replies matched to the requests by
//! transaction id (replies may come in several parts).

use edgeflow_api::model;
use edgeflow_proto::ofp::{
    FlowStatsRequest, Message, MultipartReplyBody, MultipartRequest, MultipartRequestBody,
};
use std::collections::VecDeque;

/// An answer: the token the request was made with, and the dump or why none.
pub type Answer = (u64, Result<model::SwitchDump, String>);

#[derive(Debug)]
struct Pending {
    token: u64,
    dpid: u64,
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
    pub fn start(&mut self, token: u64, dpid: u64, flow_xid: u32, group_xid: u32) {
        self.pending.push(Pending {
            token,
            dpid,
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

    /// A multipart reply part from `dpid`; true if it belonged to a dump.
    pub fn reply(&mut self, dpid: u64, xid: u32, more: bool, body: &MultipartReplyBody) -> bool {
        let Some(i) = self
            .pending
            .iter()
            .position(|p| p.dpid == dpid && (p.flow_xid == xid || p.group_xid == xid))
        else {
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
        if p.flows_done && p.groups_done {
            let p = self.pending.swap_remove(i);
            self.done.push_back((p.token, Ok(p.dump)));
        }
        true
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

//! Kubernetes nodes and placement batches (scheduling results), and the
//! routes they ask for.
//!
//! A node is a name and the IPs it uses; it is located where the host using
//! one of those IPs was learned. A placement batch lists pods (name,
//! namespace, node, pod IP, labels) with the traffic each expects to other
//! pods of the batch or to addresses. Each traffic entry becomes a route:
//! once both hosts are known, a flow at the source's switch port (matched
//! on the IP pair) sends it into the multipath group towards the
//! destination's switch (or straight to the port on one switch), and its
//! rate counts as demand of that group when weights are recomputed. The
//! flows of a batch carry one cookie, so withdrawing it is one delete per
//! switch. A batch is identified by its id: posting it again changes
//! nothing; posting other content under a used id is a conflict.
//!
//! Whenever hosts or the topology change, each installed route is checked
//! against where its hosts are now and which group joins their switches; a
//! route whose host moved (or whose address passed to another host), or
//! whose group was replaced, is installed again (its old flow removed when
//! the source moved), and a switch that reconnects gets its routes again.

use crate::topology::PortRef;
use edgeflow_api::model::{self, Node, NodeView, PlacementBatch, PlacementView, RouteView};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Cookie kind of placement flows; the low bits carry the batch's number.
pub const COOKIE_PLACEMENT: u64 = 0x0600_0000_0000_0000;

/// Most pods in one batch.
const MAX_PODS: usize = 10_000;

/// Why a write was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    /// The request names something impossible.
    #[error("{0}")]
    Invalid(String),
    /// The id is taken by a different batch.
    #[error("placement {0:?} exists with other content; delete it first")]
    Conflict(String),
    /// Another batch already routes this pair of addresses (one flow per pair).
    #[error("traffic {src} -> {dst} is already routed by placement {other:?}")]
    Overlap {
        /// Source address.
        src: IpAddr,
        /// Destination address.
        dst: IpAddr,
        /// The batch that routes it.
        other: String,
    },
    /// No such batch or node.
    #[error("no {0}")]
    NotFound(String),
}

/// Where a route's flows are, once installed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Installed {
    /// The source host's port.
    pub ingress: PortRef,
    /// The destination host's switch.
    pub egress: u64,
    /// The destination host's port.
    pub deliver: PortRef,
    /// The select group used (None on one switch).
    pub group: Option<u32>,
}

/// One expected traffic entry of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Source pod, `namespace/name`.
    pub from: String,
    /// Destination as given.
    pub to: String,
    /// Source pod IP.
    pub src: IpAddr,
    /// Destination IP.
    pub dst: IpAddr,
    /// Expected rate, bit/s.
    pub bps: f64,
    /// Installed, or why not yet.
    pub state: Result<Installed, String>,
}

/// A stored batch: its number (for the cookie) and content.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredBatch {
    /// Unique number, the low bits of the batch's cookie.
    pub seq: u64,
    /// The batch as posted.
    pub spec: PlacementBatch,
}

#[derive(Debug)]
struct Batch {
    stored: StoredBatch,
    routes: Vec<Route>,
}

/// Nodes and placement batches.
#[derive(Debug, Default)]
pub struct Placements {
    nodes: BTreeMap<String, Vec<IpAddr>>,
    batches: BTreeMap<String, Batch>,
    next_seq: u64,
}

fn invalid(msg: String) -> PlacementError {
    PlacementError::Invalid(msg)
}

/// The routes a batch asks for, or what is wrong with it.
fn routes_of(batch: &PlacementBatch) -> Result<Vec<Route>, PlacementError> {
    if batch.id.is_empty() || batch.id.len() > 253 {
        return Err(invalid("id must be 1 to 253 characters".into()));
    }
    if batch.pods.len() > MAX_PODS {
        return Err(invalid(format!("at most {MAX_PODS} pods per batch")));
    }
    let mut ips = BTreeMap::new();
    for p in &batch.pods {
        if p.name.is_empty() || p.node.is_empty() {
            return Err(invalid("every pod needs a name and a node".into()));
        }
        let ip: IpAddr = p.ip.parse().map_err(|_| {
            invalid(format!(
                "pod {}/{}: ip {:?} is not an IP address",
                p.namespace, p.name, p.ip
            ))
        })?;
        if ips
            .insert(format!("{}/{}", p.namespace, p.name), ip)
            .is_some()
        {
            return Err(invalid(format!(
                "pod {}/{} is listed twice",
                p.namespace, p.name
            )));
        }
    }
    let mut routes = Vec::new();
    for p in &batch.pods {
        let from = format!("{}/{}", p.namespace, p.name);
        for t in &p.traffic {
            if !(t.bps.is_finite() && t.bps >= 0.0) {
                return Err(invalid(format!(
                    "pod {from}: traffic to {:?} has rate {}, not a non-negative number",
                    t.to, t.bps
                )));
            }
            let qualified = if t.to.contains('/') {
                t.to.clone()
            } else {
                format!("{}/{}", p.namespace, t.to)
            };
            let dst = ips
                .get(&qualified)
                .copied()
                .or_else(|| t.to.parse().ok())
                .ok_or_else(|| {
                    invalid(format!(
                        "pod {from}: traffic to {:?} is neither a pod of the batch nor an IP address",
                        t.to
                    ))
                })?;
            routes.push(Route {
                from: from.clone(),
                to: t.to.clone(),
                src: ips[&from],
                dst,
                bps: t.bps,
                state: Err("not installed yet".into()),
            });
        }
    }
    Ok(routes)
}

impl Placements {
    /// Registers (or replaces) a node.
    pub fn put_node(&mut self, node: &Node) -> Result<(), PlacementError> {
        if node.name.is_empty() || node.ips.is_empty() {
            return Err(invalid("a node needs a name and at least one IP".into()));
        }
        let ips = node
            .ips
            .iter()
            .map(|ip| {
                ip.parse().map_err(|_| {
                    invalid(format!("node {}: {ip:?} is not an IP address", node.name))
                })
            })
            .collect::<Result<Vec<IpAddr>, _>>()?;
        self.nodes.insert(node.name.clone(), ips);
        Ok(())
    }

    /// Forgets a node.
    pub fn delete_node(&mut self, name: &str) -> Result<(), PlacementError> {
        self.nodes
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| PlacementError::NotFound(format!("node {name:?}")))
    }

    /// The nodes, located by `host_at(ip)`.
    pub fn node_views(&self, host_at: impl Fn(&IpAddr) -> Option<PortRef>) -> Vec<NodeView> {
        self.nodes
            .iter()
            .map(|(name, ips)| NodeView {
                name: name.clone(),
                ips: ips.iter().map(IpAddr::to_string).collect(),
                attachment: ips.iter().find_map(&host_at).map(|p| model::End {
                    dpid: model::Dpid(p.dpid),
                    port_no: p.port,
                }),
            })
            .collect()
    }

    /// Adds a batch; true if it is new, false if the same batch was there.
    pub fn put(&mut self, spec: PlacementBatch) -> Result<bool, PlacementError> {
        if let Some(b) = self.batches.get(&spec.id) {
            return if b.stored.spec == spec {
                Ok(false)
            } else {
                Err(PlacementError::Conflict(spec.id))
            };
        }
        let routes = routes_of(&spec)?;
        for (id, b) in &self.batches {
            if let Some(r) = routes
                .iter()
                .find(|r| b.routes.iter().any(|o| (o.src, o.dst) == (r.src, r.dst)))
            {
                return Err(PlacementError::Overlap {
                    src: r.src,
                    dst: r.dst,
                    other: id.clone(),
                });
            }
        }
        self.next_seq += 1;
        let stored = StoredBatch {
            seq: self.next_seq,
            spec,
        };
        self.batches
            .insert(stored.spec.id.clone(), Batch { stored, routes });
        Ok(true)
    }

    /// Restores a stored batch (at start).
    pub fn restore(&mut self, stored: StoredBatch) -> Result<(), PlacementError> {
        let routes = routes_of(&stored.spec)?;
        self.next_seq = self.next_seq.max(stored.seq);
        self.batches
            .insert(stored.spec.id.clone(), Batch { stored, routes });
        Ok(())
    }

    /// Removes a batch; its view (routes as they were) and cookie.
    pub fn remove(&mut self, id: &str) -> Result<(PlacementView, u64), PlacementError> {
        let b = self
            .batches
            .remove(id)
            .ok_or_else(|| PlacementError::NotFound(format!("placement {id:?}")))?;
        Ok((view(&b), COOKIE_PLACEMENT | b.stored.seq))
    }

    /// The stored form of a batch.
    pub fn stored(&self, id: &str) -> Option<&StoredBatch> {
        self.batches.get(id).map(|b| &b.stored)
    }

    /// Every route with its batch's cookie, to (re)install.
    pub fn routes_mut(&mut self) -> impl Iterator<Item = (u64, &mut Route)> {
        self.batches.values_mut().flat_map(|b| {
            let cookie = COOKIE_PLACEMENT | b.stored.seq;
            b.routes.iter_mut().map(move |r| (cookie, r))
        })
    }

    /// The addresses of installed routes' ends.
    pub fn route_ips(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.batches
            .values()
            .flat_map(|b| &b.routes)
            .filter(|r| r.state.is_ok())
            .flat_map(|r| [r.src, r.dst])
    }

    /// The groups installed routes send into.
    pub fn group_refs(&self) -> impl Iterator<Item = u32> + '_ {
        self.batches
            .values()
            .flat_map(|b| &b.routes)
            .filter_map(|r| r.state.as_ref().ok()?.group)
    }

    /// Expected rate between pairs of switches, from installed routes.
    pub fn demands(&self) -> BTreeMap<(u64, u64), f64> {
        let mut d = BTreeMap::new();
        for r in self.batches.values().flat_map(|b| &b.routes) {
            if let Ok(i) = r.state {
                if i.ingress.dpid != i.egress {
                    *d.entry((i.ingress.dpid, i.egress)).or_default() += r.bps;
                }
            }
        }
        d
    }

    /// One batch's view.
    pub fn view(&self, id: &str) -> Option<PlacementView> {
        self.batches.get(id).map(view)
    }

    /// Every batch's view.
    pub fn views(&self) -> Vec<PlacementView> {
        self.batches.values().map(view).collect()
    }

    /// Number of nodes and batches.
    pub fn counts(&self) -> (usize, usize) {
        (self.nodes.len(), self.batches.len())
    }
}

fn view(b: &Batch) -> PlacementView {
    let installed = b.routes.iter().filter(|r| r.state.is_ok()).count();
    let state = if installed == b.routes.len() {
        "installed"
    } else if installed == 0 {
        "pending"
    } else {
        "partial"
    };
    PlacementView {
        id: b.stored.spec.id.clone(),
        state: state.into(),
        pods: b.stored.spec.pods.clone(),
        routes: b
            .routes
            .iter()
            .map(|r| {
                let ok = r.state.as_ref().ok();
                RouteView {
                    from: r.from.clone(),
                    to: r.to.clone(),
                    src_ip: r.src.to_string(),
                    dst_ip: Some(r.dst.to_string()),
                    bps: r.bps,
                    ingress: ok.map(|i| model::End {
                        dpid: model::Dpid(i.ingress.dpid),
                        port_no: i.ingress.port,
                    }),
                    egress: ok.map(|i| model::Dpid(i.egress)),
                    group_id: ok.and_then(|i| i.group),
                    installed: ok.is_some(),
                    reason: r.state.as_ref().err().cloned(),
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(json: serde_json::Value) -> PlacementBatch {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn traffic_resolves_to_pods_of_the_batch_or_addresses() {
        let b = batch(serde_json::json!({"id": "b1", "pods": [
            {"name": "web", "node": "n1", "ip": "10.0.0.1",
             "traffic": [{"to": "db", "bps": 5e6}, {"to": "10.9.9.9", "bps": 1e6}]},
            {"name": "db", "node": "n2", "ip": "10.0.0.2"}]}));
        let routes = routes_of(&b).unwrap();
        assert_eq!(routes.len(), 2);
        assert_eq!(routes[0].dst, "10.0.0.2".parse::<IpAddr>().unwrap());
        assert_eq!(routes[1].dst, "10.9.9.9".parse::<IpAddr>().unwrap());
        assert_eq!(routes[0].from, "default/web");
    }

    #[test]
    fn bad_batches_are_refused_with_a_reason() {
        let cases = [
            (serde_json::json!({"id": "", "pods": []}), "id"),
            (
                serde_json::json!({"id": "b", "pods": [{"name": "a", "node": "n", "ip": "x"}]}),
                "not an IP",
            ),
            (
                serde_json::json!({"id": "b", "pods": [{"name": "a", "node": "n", "ip": "10.0.0.1",
                    "traffic": [{"to": "ghost", "bps": 1}]}]}),
                "ghost",
            ),
            (
                serde_json::json!({"id": "b", "pods": [{"name": "a", "node": "n", "ip": "10.0.0.1",
                    "traffic": [{"to": "10.0.0.2", "bps": -1}]}]}),
                "non-negative",
            ),
            (
                serde_json::json!({"id": "b", "pods": [{"name": "a", "node": "n", "ip": "10.0.0.1"},
                    {"name": "a", "node": "m", "ip": "10.0.0.2"}]}),
                "twice",
            ),
        ];
        for (json, needle) in cases {
            let err = routes_of(&batch(json)).unwrap_err().to_string();
            assert!(err.contains(needle), "{err:?} lacks {needle:?}");
        }
    }

    #[test]
    fn batches_are_idempotent_by_id_and_conflict_on_other_content() {
        let mut p = Placements::default();
        let b = batch(serde_json::json!({"id": "b1", "pods": [
            {"name": "web", "node": "n1", "ip": "10.0.0.1"}]}));
        assert_eq!(p.put(b.clone()), Ok(true));
        assert_eq!(p.put(b.clone()), Ok(false));
        let mut other = b.clone();
        other.pods[0].node = "n2".into();
        assert_eq!(p.put(other), Err(PlacementError::Conflict("b1".into())));
        let (view, cookie) = p.remove("b1").unwrap();
        assert_eq!(view.id, "b1");
        assert_eq!(cookie, COOKIE_PLACEMENT | 1);
        assert!(matches!(p.remove("b1"), Err(PlacementError::NotFound(_))));
        // A new batch after a restore gets a fresh number.
        p.restore(StoredBatch {
            seq: 7,
            spec: b.clone(),
        })
        .unwrap();
        let mut b2 = b;
        b2.id = "b2".into();
        p.put(b2).unwrap();
        assert_eq!(p.stored("b2").unwrap().seq, 8);
        // A third batch routing a pair another batch routes is refused.
        let b3 = batch(serde_json::json!({"id": "b3", "pods": [
            {"name": "x", "node": "n1", "ip": "10.0.0.5", "traffic": [{"to": "10.0.0.6", "bps": 1}]}]}));
        p.put(b3.clone()).unwrap();
        let mut b4 = b3;
        b4.id = "b4".into();
        let err = p.put(b4).unwrap_err();
        assert!(
            matches!(err, PlacementError::Overlap { ref other, .. } if other == "b3"),
            "{err}"
        );
    }
}

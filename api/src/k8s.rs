//! The kube-scheduler extender protocol, exactly as kube-scheduler sends and
//! expects it (k8s.io/kube-scheduler/extender/v1).
//!
//! The wrapper structs have no JSON tags in Go, so their fields keep Go's
//! names (`Pod`, `Nodes`, `NodeNames`, `FailedNodes`, ...); the Kubernetes
//! objects inside them (`v1.Pod`, `v1.NodeList`) use their usual lower-case
//! API names. Only what edgeflow reads is typed; a node object in a
//! `NodeList` passes through untouched.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Annotation: the bandwidth a pod needs, as a Kubernetes quantity in bit/s (`50M`).
pub const BANDWIDTH_ANNOTATION: &str = "edgeflow.io/bandwidth";
/// Annotation: the pods a pod talks to: pod names or `key=value` label selectors, comma-separated.
pub const PEERS_ANNOTATION: &str = "edgeflow.io/peers";

/// `ExtenderArgs`: the body of filter and prioritize calls.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ExtenderArgs {
    /// The pod being scheduled (a full v1.Pod; only its metadata is read).
    #[serde(rename = "Pod")]
    pub pod: Pod,
    /// Candidate nodes as a v1.NodeList (when the extender is not nodeCacheCapable).
    #[serde(rename = "Nodes", default)]
    pub nodes: Option<NodeList>,
    /// Candidate node names (nodeCacheCapable).
    #[serde(rename = "NodeNames", default)]
    pub node_names: Option<Vec<String>>,
}

/// The part of a v1.Pod the extender reads.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct Pod {
    /// Object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
}

/// The part of v1.ObjectMeta the extender reads.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct ObjectMeta {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Namespace.
    #[serde(default)]
    pub namespace: String,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// A v1.NodeList: node objects kept as they came.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct NodeList {
    /// The nodes.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
}

impl NodeList {
    /// The name of a node object (`metadata.name`).
    pub fn name_of(node: &serde_json::Value) -> Option<&str> {
        node.get("metadata")?.get("name")?.as_str()
    }
}

impl ExtenderArgs {
    /// The candidate node names, from `NodeNames` or else from `Nodes`.
    pub fn candidates(&self) -> Vec<String> {
        match (&self.node_names, &self.nodes) {
            (Some(names), _) => names.clone(),
            (None, Some(list)) => list
                .items
                .iter()
                .filter_map(|n| NodeList::name_of(n).map(str::to_string))
                .collect(),
            (None, None) => Vec::new(),
        }
    }
}

/// `ExtenderFilterResult`.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct FilterResult {
    /// The nodes that passed, as a v1.NodeList (when the request sent `Nodes`).
    #[serde(rename = "Nodes")]
    pub nodes: Option<NodeList>,
    /// The names of the nodes that passed (when the request sent `NodeNames`).
    #[serde(rename = "NodeNames")]
    pub node_names: Option<Vec<String>>,
    /// Nodes that failed, with the reason.
    #[serde(rename = "FailedNodes")]
    pub failed_nodes: BTreeMap<String, String>,
    /// Nodes that failed and that preemption cannot help.
    #[serde(rename = "FailedAndUnresolvableNodes")]
    pub failed_and_unresolvable_nodes: BTreeMap<String, String>,
    /// An error for the whole call (empty when none).
    #[serde(rename = "Error")]
    pub error: String,
}

/// One entry of a `HostPriorityList`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HostPriority {
    /// Node name.
    #[serde(rename = "Host")]
    pub host: String,
    /// Score, 0 to 10.
    #[serde(rename = "Score")]
    pub score: i64,
}

/// Why an annotation cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotationError {
    /// The annotation.
    pub key: &'static str,
    /// Its value.
    pub value: String,
}

impl std::fmt::Display for AnnotationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "annotation {}: {:?} is not a bandwidth quantity such as 50M or 1.5Gi",
            self.key, self.value
        )
    }
}

/// Parses a Kubernetes quantity (resource.Quantity's grammar) as bit/s: an
/// optional sign, a decimal number, then a binary suffix (Ki, Mi, Gi, Ti,
/// Pi, Ei), a decimal one (m, k, M, G, T, P, E) or an exponent (e3, E6).
/// Negative and non-finite values are refused.
pub fn parse_bandwidth(value: &str) -> Option<f64> {
    let v = value.trim();
    let v = v.strip_prefix('+').unwrap_or(v);
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (number, suffix) = v.split_at(split);
    if number.is_empty() || number == "." {
        return None;
    }
    let n: f64 = number.parse().ok()?;
    let binary = |p: i32| 1024f64.powi(p);
    let scale = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => binary(1),
        "Mi" => binary(2),
        "Gi" => binary(3),
        "Ti" => binary(4),
        "Pi" => binary(5),
        "Ei" => binary(6),
        exp if exp.starts_with(['e', 'E']) => {
            let e: i32 = exp[1..]
                .strip_prefix('+')
                .unwrap_or(&exp[1..])
                .parse()
                .ok()?;
            10f64.powi(e)
        }
        _ => return None,
    };
    let bps = n * scale;
    bps.is_finite().then_some(bps)
}

/// The bandwidth a pod declares, if any.
pub fn pod_bandwidth(pod: &Pod) -> Result<Option<f64>, AnnotationError> {
    let Some(value) = pod.metadata.annotations.get(BANDWIDTH_ANNOTATION) else {
        return Ok(None);
    };
    parse_bandwidth(value).map(Some).ok_or(AnnotationError {
        key: BANDWIDTH_ANNOTATION,
        value: value.clone(),
    })
}

/// One entry of `edgeflow.io/peers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// Pods whose label `key` has `value`.
    Label {
        /// Label key.
        key: String,
        /// Label value.
        value: String,
    },
    /// A pod by name, in the given namespace.
    Pod {
        /// Namespace (the scheduled pod's when not given).
        namespace: String,
        /// Name.
        name: String,
    },
}

/// The peers a pod declares; `namespace` applies to names without one.
pub fn pod_peers(pod: &Pod) -> Vec<Peer> {
    let Some(value) = pod.metadata.annotations.get(PEERS_ANNOTATION) else {
        return Vec::new();
    };
    let namespace = if pod.metadata.namespace.is_empty() {
        "default"
    } else {
        &pod.metadata.namespace
    };
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match (s.split_once('='), s.split_once('/')) {
            (Some((k, v)), _) => Peer::Label {
                key: k.trim().to_string(),
                value: v.trim().to_string(),
            },
            (None, Some((ns, name))) => Peer::Pod {
                namespace: ns.to_string(),
                name: name.to_string(),
            },
            (None, None) => Peer::Pod {
                namespace: namespace.to_string(),
                name: s.to_string(),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_with_decimal_and_binary_suffixes() {
        assert_eq!(parse_bandwidth("50M"), Some(50e6));
        assert_eq!(parse_bandwidth("1.5G"), Some(1.5e9));
        assert_eq!(parse_bandwidth("10Ki"), Some(10240.0));
        assert_eq!(parse_bandwidth("1000"), Some(1000.0));
        assert_eq!(parse_bandwidth("+5M"), Some(5e6));
        assert_eq!(parse_bandwidth("1e9"), Some(1e9));
        assert_eq!(parse_bandwidth("2E6"), Some(2e6));
        assert_eq!(parse_bandwidth("1E"), Some(1e18));
        assert_eq!(parse_bandwidth("500m"), Some(0.5));
        assert_eq!(parse_bandwidth("1Ei"), Some(1024f64.powi(6)));
        for bad in ["", "M", "-5M", "5X", "5 M", "inf", ".", "1e", "1e99999"] {
            assert_eq!(parse_bandwidth(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn peers_are_names_or_label_selectors() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "shop",
                         "annotations": {PEERS_ANNOTATION: "db, app=cache ,other/api"}}
        }))
        .unwrap();
        assert_eq!(
            pod_peers(&pod),
            vec![
                Peer::Pod {
                    namespace: "shop".into(),
                    name: "db".into()
                },
                Peer::Label {
                    key: "app".into(),
                    value: "cache".into()
                },
                Peer::Pod {
                    namespace: "other".into(),
                    name: "api".into()
                },
            ]
        );
    }
}

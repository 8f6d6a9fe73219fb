//! edgeflow's northbound REST API (axum), under `/api/v1`, described by an
//! OpenAPI 3.1 document generated from the code (`/api/v1/openapi.json`).
//!
//! Reads never wait on the controller: it publishes a snapshot of its state
//! (topology, link loads and forecasts, groups, nodes, placements) through a
//! `tokio::sync::watch` channel whenever the state changes, and handlers
//! read the newest one. Writes (nodes, placements) go to the controller's
//! event loop as [`Command`]s and are answered once applied and stored.
//!
//! Every error is JSON, `{"error": "..."}`, with a 4xx/5xx status; bodies
//! are limited in size; with a token configured every route but the health
//! checks wants `Authorization: Bearer <token>`.

pub mod k8s;
pub mod metrics;
pub mod model;
pub mod scoring;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot, watch};
use utoipa::OpenApi;

/// An API error: a status and a message naming the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// What is wrong.
    pub message: String,
}

impl ApiError {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

/// The JSON shape of every error.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What is wrong.
    pub error: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response()
    }
}

/// A JSON body whose rejections (bad syntax, wrong shape, wrong content
/// type, too large) are JSON errors naming the problem.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(r) => Err(ApiError::new(r.status(), r.body_text())),
        }
    }
}

/// Declares a wrapper of an axum extractor from the request's parts whose
/// rejections are JSON errors naming the problem.
macro_rules! json_rejecting {
    ($(#[$doc:meta])* $name:ident wraps $inner:ident where T: $($bound:tt)+) => {
        $(#[$doc])*
        pub struct $name<T>(pub T);

        impl<S, T> axum::extract::FromRequestParts<S> for $name<T>
        where
            T: $($bound)+,
            S: Send + Sync,
        {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut axum::http::request::Parts,
                state: &S,
            ) -> Result<Self, Self::Rejection> {
                match $inner::<T>::from_request_parts(parts, state).await {
                    Ok($inner(v)) => Ok($name(v)),
                    Err(r) => Err(ApiError::new(r.status(), r.body_text())),
                }
            }
        }
    };
}

json_rejecting! {
    /// Query parameters (unknown ones refused where the type says so).
    QueryParams wraps Query where T: serde::de::DeserializeOwned
}

json_rejecting! {
    /// Path segments (bad percent-encoding, wrong type).
    Segments wraps Path where T: serde::de::DeserializeOwned + Send
}

/// The stored rate history, read off the event loop (on a blocking thread).
pub trait RateHistory: Send + Sync + 'static {
    /// The samples of one port with times in `window` (unix ms), oldest first.
    fn port_history(
        &self,
        dpid: u64,
        port_no: u32,
        resolution: model::HistoryResolution,
        window: std::ops::Range<u64>,
    ) -> Result<Vec<model::RateSample>, String>;
}

/// A write for the controller's event loop, with where to send the answer.
#[derive(Debug)]
pub enum Command {
    /// Register (or replace) a node.
    PutNode(
        model::Node,
        oneshot::Sender<Result<model::NodeView, ApiError>>,
    ),
    /// Forget a node.
    DeleteNode(String, oneshot::Sender<Result<(), ApiError>>),
    /// Apply a placement batch (idempotent by id).
    PutPlacement(
        model::PlacementBatch,
        oneshot::Sender<Result<(StatusCode, model::PlacementView), ApiError>>,
    ),
    /// Withdraw a placement batch and its flows.
    DeletePlacement(
        String,
        oneshot::Sender<Result<model::PlacementView, ApiError>>,
    ),
    /// Fetch a switch's flow and group tables.
    SwitchDump(u64, oneshot::Sender<Result<model::SwitchDump, ApiError>>),
}

/// API settings.
#[derive(Debug, Clone, Default)]
pub struct ApiConfig {
    /// Bearer token every request but the health checks must carry.
    pub token: Option<String>,
    /// Largest request body, bytes.
    pub body_limit: usize,
}

/// What the handlers read and where they send writes.
#[derive(Clone)]
pub struct ApiState {
    topology: watch::Receiver<Arc<model::Topology>>,
    stats: watch::Receiver<model::ControllerStats>,
    commands: mpsc::Sender<Command>,
    latency: Arc<metrics::Histogram>,
    history: Option<Arc<dyn RateHistory>>,
    history_reads: Arc<tokio::sync::Semaphore>,
}

impl ApiState {
    /// State reading snapshots from the controller's channels and sending it commands.
    pub fn new(
        topology: watch::Receiver<Arc<model::Topology>>,
        stats: watch::Receiver<model::ControllerStats>,
        commands: mpsc::Sender<Command>,
    ) -> ApiState {
        ApiState {
            topology,
            stats,
            commands,
            latency: Arc::default(),
            history: None,
            history_reads: Arc::new(tokio::sync::Semaphore::new(HISTORY_READS)),
        }
    }

    /// Serves port rate history from `history`.
    pub fn with_history(mut self, history: Arc<dyn RateHistory>) -> ApiState {
        self.history = Some(history);
        self
    }

    fn snapshot(&self) -> Arc<model::Topology> {
        self.topology.borrow().clone()
    }

    /// Sends a command and waits for the controller's answer.
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, ApiError>>) -> Command,
    ) -> Result<T, ApiError> {
        let (tx, rx) = oneshot::channel();
        let gone = || ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "controller is stopping");
        self.commands.send(make(tx)).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "edgeflow",
        description = "SDN controller API for Kubernetes schedulers"
    ),
    paths(
        topology,
        stats,
        list_nodes,
        get_node,
        put_node,
        delete_node,
        path_facts,
        switch_dump,
        port_history,
        scheduler_filter,
        scheduler_prioritize,
        list_placements,
        get_placement,
        post_placement,
        delete_placement,
        metrics_text,
        live,
        ready
    ),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

/// The routes, with the body limit and, when a token is set, authentication.
pub fn router(state: ApiState, config: ApiConfig) -> Router {
    let token = config.token.map(Arc::<str>::from);
    let api = Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/topology", get(topology))
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/nodes", get(list_nodes))
        .route(
            "/api/v1/nodes/{name}",
            get(get_node).put(put_node).delete(delete_node),
        )
        .route("/api/v1/paths", get(path_facts))
        .route("/api/v1/switches/{dpid}", get(switch_dump))
        .route(
            "/api/v1/switches/{dpid}/ports/{port}/history",
            get(port_history),
        )
        .route("/api/v1/scheduler/filter", post(scheduler_filter))
        .route("/api/v1/scheduler/prioritize", post(scheduler_prioritize))
        .route(
            "/api/v1/placements",
            get(list_placements).post(post_placement),
        )
        .route(
            "/api/v1/placements/{id}",
            get(get_placement).delete(delete_placement),
        )
        .route("/metrics", get(metrics_text))
        .route_layer(middleware::from_fn_with_state(token, authenticate));
    Router::new()
        .merge(api)
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(config.body_limit.max(1024)))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Refuses requests without the configured bearer token.
async fn authenticate(State(token): State<Option<Arc<str>>>, req: Request, next: Next) -> Response {
    if let Some(token) = token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| same_secret(g.as_bytes(), token.as_bytes())) {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing or wrong bearer token (Authorization: Bearer <token>)",
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// Compares two secrets in time that does not depend on where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Times every request for the latency histogram.
async fn observe(State(s): State<ApiState>, req: Request, next: Next) -> Response {
    let t0 = Instant::now();
    let resp = next.run(req).await;
    s.latency.observe(t0.elapsed());
    resp
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        ApiDoc::openapi().to_json().unwrap_or_default(),
    )
        .into_response()
}

/// Switches, links (load, capacity, forecast), hosts, groups, nodes and placements.
#[utoipa::path(get, path = "/api/v1/topology", responses((status = 200, body = model::Topology)))]
async fn topology(State(s): State<ApiState>) -> Json<Arc<model::Topology>> {
    Json(s.snapshot())
}

/// Controller counters.
#[utoipa::path(get, path = "/api/v1/stats", responses((status = 200, body = model::ControllerStats)))]
async fn stats(State(s): State<ApiState>) -> Json<model::ControllerStats> {
    Json(*s.stats.borrow())
}

/// Counters and API latency in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", responses((status = 200, body = String, content_type = "text/plain")))]
async fn metrics_text(State(s): State<ApiState>) -> Response {
    let text = metrics::render(&s.stats.borrow(), &s.latency);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// A registered node with its spare bandwidth.
#[derive(Serialize, utoipa::ToSchema)]
struct NodeFacts {
    #[serde(flatten)]
    node: model::NodeView,
    capacity: Option<scoring::Capacity>,
}

/// The registered nodes and where they are attached.
#[utoipa::path(get, path = "/api/v1/nodes", responses((status = 200, body = Vec<model::NodeView>)))]
async fn list_nodes(State(s): State<ApiState>) -> Json<Vec<model::NodeView>> {
    Json(s.snapshot().nodes.clone())
}

/// One node, with the bandwidth it has to spare now and by the forecasts.
#[utoipa::path(get, path = "/api/v1/nodes/{name}",
    responses((status = 200, body = NodeFacts), (status = 404, body = ErrorBody)))]
async fn get_node(
    State(s): State<ApiState>,
    Segments(name): Segments<String>,
) -> Result<Json<NodeFacts>, ApiError> {
    let snap = s.snapshot();
    let node = snap
        .nodes
        .iter()
        .find(|n| n.name == name)
        .cloned()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no node {name:?}")))?;
    let index = scoring::Index::new(&snap);
    let capacity = node.attachment.map(|at| index.node_capacity(at));
    Ok(Json(NodeFacts { node, capacity }))
}

/// Registers a node (name to IPs), replacing an earlier registration.
#[utoipa::path(put, path = "/api/v1/nodes/{name}", request_body = model::Node,
    responses((status = 200, body = model::NodeView), (status = 400, body = ErrorBody)))]
async fn put_node(
    State(s): State<ApiState>,
    Segments(name): Segments<String>,
    Body(node): Body<model::Node>,
) -> Result<Json<model::NodeView>, ApiError> {
    if node.name != name {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body names node {:?} but the path {name:?}", node.name),
        ));
    }
    s.ask(|tx| Command::PutNode(node, tx)).await.map(Json)
}

/// Forgets a node.
#[utoipa::path(delete, path = "/api/v1/nodes/{name}",
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_node(
    State(s): State<ApiState>,
    Segments(name): Segments<String>,
) -> Result<StatusCode, ApiError> {
    s.ask(|tx| Command::DeleteNode(name, tx)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A datapath id from a path segment (hex digits).
fn parse_dpid(dpid: &str) -> Result<u64, ApiError> {
    u64::from_str_radix(dpid, 16).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{dpid:?} is not a datapath id (hex digits)"),
        )
    })
}

/// How long a switch has to answer a dump.
const DUMP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The flows (all tables, with counters) and groups a switch holds, asked
/// from the switch itself.
#[utoipa::path(get, path = "/api/v1/switches/{dpid}",
    params(("dpid" = String, Path, description = "datapath id, 16 hex digits")),
    responses((status = 200, body = model::SwitchDump), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn switch_dump(
    State(s): State<ApiState>,
    Segments(dpid): Segments<String>,
) -> Result<Json<model::SwitchDump>, ApiError> {
    let id = parse_dpid(&dpid)?;
    let ask = s.ask(|tx| Command::SwitchDump(id, tx));
    match tokio::time::timeout(DUMP_TIMEOUT, ask).await {
        Ok(r) => r.map(Json),
        Err(_) => Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            format!("switch {id:016x} did not answer within {DUMP_TIMEOUT:?}"),
        )),
    }
}

/// The window and resolution of a rate history query.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    /// `poll` (every poll, the default) or `minute` (minute averages).
    #[serde(default)]
    resolution: model::HistoryResolution,
    /// Window start, unix milliseconds; by default `to` less 5 minutes (polls) or a day (minutes).
    from: Option<u64>,
    /// Window end, unix milliseconds, exclusive; by default now, or with `from` given, the
    /// longest window after it up to now.
    to: Option<u64>,
}

/// The window a query gets by default, and the longest one it may ask for:
/// 5 minutes and 6 hours of polls (21,600 at one a second), a day and 31
/// days of minutes (44,640).
fn windows_ms(resolution: model::HistoryResolution) -> (u64, u64) {
    match resolution {
        model::HistoryResolution::Poll => (5 * 60_000, 6 * 3_600_000),
        model::HistoryResolution::Minute => (24 * 3_600_000, 31 * 24 * 3_600_000),
    }
}

/// History reads served at once; more are refused (429) rather than queued
/// on blocking threads that compete with the switches' event loop.
const HISTORY_READS: usize = 2;

/// A port's stored rates over a window: every poll's, or minute averages.
/// A switch or port never polled has no samples (an empty list).
#[utoipa::path(get, path = "/api/v1/switches/{dpid}/ports/{port}/history",
    params(("dpid" = String, Path, description = "datapath id, 16 hex digits"),
           ("port" = u32, Path, description = "port number"), HistoryQuery),
    responses((status = 200, body = model::PortHistory), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 429, body = ErrorBody),
              (status = 500, body = ErrorBody)))]
async fn port_history(
    State(s): State<ApiState>,
    Segments((dpid, port)): Segments<(String, String)>,
    QueryParams(q): QueryParams<HistoryQuery>,
) -> Result<Json<model::PortHistory>, ApiError> {
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, m);
    let id = parse_dpid(&dpid)?;
    let port_no: u32 = port
        .parse()
        .map_err(|_| bad(format!("{port:?} is not a port number")))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let (default_span, longest) = windows_ms(q.resolution);
    let (from, to) = match (q.from, q.to) {
        (Some(from), None) => (from, now.min(from.saturating_add(longest))),
        (from, to) => {
            let to = to.unwrap_or(now);
            (from.unwrap_or(to.saturating_sub(default_span)), to)
        }
    };
    if from >= to {
        return Err(bad(format!("from ({from}) must come before to ({to})")));
    }
    if to - from > longest {
        return Err(bad(format!(
            "a window of at most {longest} ms at this resolution, not {}",
            to - from
        )));
    }
    let history = s.history.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "this controller keeps no rate history",
        )
    })?;
    let _permit = s.history_reads.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("{HISTORY_READS} history reads are running; try again"),
        )
    })?;
    let resolution = q.resolution;
    let samples = tokio::task::spawn_blocking(move || {
        history.port_history(id, port_no, resolution, from..to)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    Ok(Json(model::PortHistory {
        dpid: model::Dpid(id),
        port_no,
        resolution,
        from,
        to,
        samples,
    }))
}

/// The two ends of a path query: node names, host MAC or IP addresses.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct PathQuery {
    from: String,
    to: String,
}

/// What lies between two nodes or hosts.
#[derive(Serialize, utoipa::ToSchema)]
struct PathAnswer {
    from: model::End,
    to: model::End,
    #[serde(flatten)]
    facts: scoring::PairFacts,
    /// The weighted paths of the select group between their switches (empty on one switch).
    paths: Vec<model::WeightedPath>,
}

/// Hops, bandwidth, latency estimate and weighted paths between two nodes or hosts.
#[utoipa::path(get, path = "/api/v1/paths", params(PathQuery),
    responses((status = 200, body = PathAnswer), (status = 404, body = ErrorBody)))]
async fn path_facts(
    State(s): State<ApiState>,
    QueryParams(q): QueryParams<PathQuery>,
) -> Result<Json<PathAnswer>, ApiError> {
    let snap = s.snapshot();
    let locate = |what: &str| -> Result<model::End, ApiError> {
        let node = snap
            .nodes
            .iter()
            .find(|n| n.name == what)
            .and_then(|n| n.attachment);
        let host = || {
            snap.hosts
                .iter()
                .find(|h| h.mac.eq_ignore_ascii_case(what) || h.ips.iter().any(|ip| ip == what))
                .map(|h| model::End {
                    dpid: h.dpid,
                    port_no: h.port_no,
                })
        };
        node.or_else(host).ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("{what:?} is neither a located node nor a known host MAC or IP"),
            )
        })
    };
    let (from, to) = (locate(&q.from)?, locate(&q.to)?);
    let index = scoring::Index::new(&snap);
    let facts = index
        .pair(from, to)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no path joins their switches"))?;
    let paths = snap
        .groups
        .iter()
        .find(|g| g.src == from.dpid && g.dst == to.dpid)
        .map(|g| g.paths.clone())
        .unwrap_or_default();
    Ok(Json(PathAnswer {
        from,
        to,
        facts,
        paths,
    }))
}

/// The nodes on which the peers a pod declares run (from placements), each
/// once per peer pod on it.
fn peer_nodes(snap: &model::Topology, pod: &k8s::Pod) -> Vec<String> {
    let peers = k8s::pod_peers(pod);
    let mut nodes = Vec::new();
    for batch in &snap.placements {
        for p in &batch.pods {
            let hit = peers.iter().any(|peer| match peer {
                k8s::Peer::Pod { namespace, name } => *namespace == p.namespace && *name == p.name,
                k8s::Peer::Label { key, value } => p.labels.get(key) == Some(value),
            });
            if hit {
                nodes.push(p.node.clone());
            }
        }
    }
    nodes
}

fn bad_annotation(e: k8s::AnnotationError) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
}

/// kube-scheduler extender filter: drops nodes that cannot carry the
/// bandwidth the pod declares (`edgeflow.io/bandwidth`), now or by the
/// forecasts. Nodes the controller has not located pass.
#[utoipa::path(post, path = "/api/v1/scheduler/filter", request_body = k8s::ExtenderArgs,
    responses((status = 200, body = k8s::FilterResult), (status = 400, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn scheduler_filter(
    State(s): State<ApiState>,
    Body(args): Body<k8s::ExtenderArgs>,
) -> Result<Json<k8s::FilterResult>, ApiError> {
    let need = k8s::pod_bandwidth(&args.pod).map_err(bad_annotation)?;
    let snap = s.snapshot();
    let index = scoring::Index::new(&snap);
    let mut failed = BTreeMap::new();
    if let Some(need) = need {
        for name in args.candidates() {
            let Some(at) = index.attachment(&name) else {
                continue;
            };
            let cap = index.node_capacity(at);
            if let Some(spare) = cap.worst().filter(|&spare| spare < need) {
                failed.insert(
                    name,
                    format!(
                        "edgeflow: {:.1} Mbit/s spare (now or forecast), the pod needs {:.1}",
                        spare / 1e6,
                        need / 1e6
                    ),
                );
            }
        }
    }
    let passed = |name: &str| !failed.contains_key(name);
    let result = k8s::FilterResult {
        node_names: args
            .node_names
            .as_ref()
            .map(|names| names.iter().filter(|n| passed(n)).cloned().collect()),
        nodes: match (&args.node_names, &args.nodes) {
            (None, Some(list)) => Some(k8s::NodeList {
                items: list
                    .items
                    .iter()
                    .filter(|n| k8s::NodeList::name_of(n).is_some_and(passed))
                    .cloned()
                    .collect(),
            }),
            _ => None,
        },
        failed_nodes: failed,
        ..Default::default()
    };
    Ok(Json(result))
}

/// kube-scheduler extender prioritize: scores 0 to 10, higher for nodes near
/// (in spare bandwidth and hops) to the pods the pod talks to
/// (`edgeflow.io/peers`), or with more spare bandwidth when it names none.
#[utoipa::path(post, path = "/api/v1/scheduler/prioritize", request_body = k8s::ExtenderArgs,
    responses((status = 200, body = Vec<k8s::HostPriority>), (status = 400, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn scheduler_prioritize(
    State(s): State<ApiState>,
    Body(args): Body<k8s::ExtenderArgs>,
) -> Result<Json<Vec<k8s::HostPriority>>, ApiError> {
    let need = k8s::pod_bandwidth(&args.pod).map_err(bad_annotation)?;
    let snap = s.snapshot();
    let index = scoring::Index::new(&snap);
    let peers = peer_nodes(&snap, &args.pod);
    let scores = args
        .candidates()
        .into_iter()
        .map(|host| {
            let a = scoring::affinity(&index, &host, &peers, need);
            k8s::HostPriority {
                score: (a * 10.0).round().clamp(0.0, 10.0) as i64,
                host,
            }
        })
        .collect();
    Ok(Json(scores))
}

/// Every placement batch and its state.
#[utoipa::path(get, path = "/api/v1/placements", responses((status = 200, body = Vec<model::PlacementView>)))]
async fn list_placements(State(s): State<ApiState>) -> Json<Vec<model::PlacementView>> {
    Json(s.snapshot().placements.clone())
}

/// One placement batch.
#[utoipa::path(get, path = "/api/v1/placements/{id}",
    responses((status = 200, body = model::PlacementView), (status = 404, body = ErrorBody)))]
async fn get_placement(
    State(s): State<ApiState>,
    Segments(id): Segments<String>,
) -> Result<Json<model::PlacementView>, ApiError> {
    s.snapshot()
        .placements
        .iter()
        .find(|p| p.id == id)
        .cloned()
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no placement {id:?}")))
}

/// Applies a batch of scheduling results: stored, turned into demands and
/// flows into the select groups between the pods' switches; answered with
/// what was installed (201), or as before when the id is known (200).
#[utoipa::path(post, path = "/api/v1/placements", request_body = model::PlacementBatch,
    responses((status = 201, body = model::PlacementView), (status = 200, body = model::PlacementView),
              (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn post_placement(
    State(s): State<ApiState>,
    Body(batch): Body<model::PlacementBatch>,
) -> Result<(StatusCode, Json<model::PlacementView>), ApiError> {
    let (status, view) = s.ask(|tx| Command::PutPlacement(batch, tx)).await?;
    Ok((status, Json(view)))
}

/// Withdraws a placement batch and its flows.
#[utoipa::path(delete, path = "/api/v1/placements/{id}",
    responses((status = 200, body = model::PlacementView), (status = 404, body = ErrorBody)))]
async fn delete_placement(
    State(s): State<ApiState>,
    Segments(id): Segments<String>,
) -> Result<Json<model::PlacementView>, ApiError> {
    s.ask(|tx| Command::DeletePlacement(id, tx)).await.map(Json)
}

/// Liveness.
#[utoipa::path(get, path = "/health/live", responses((status = 200)))]
async fn live() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "live"}))
}

/// Readiness: the controller has published its first snapshot.
#[utoipa::path(get, path = "/health/ready", responses((status = 200), (status = 503, body = ErrorBody)))]
async fn ready(State(s): State<ApiState>) -> Response {
    if s.topology.borrow().ready {
        Json(serde_json::json!({"status": "ready"})).into_response()
    } else {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "controller is starting").into_response()
    }
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such resource")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn call(app: Router, req: Request<axum::body::Body>) -> (StatusCode, serde_json::Value) {
        let resp = app.oneshot(req).await.unwrap();
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&body)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into()));
        (status, json)
    }

    async fn get_json(app: Router, uri: &str) -> (StatusCode, serde_json::Value) {
        call(app, Request::get(uri).body(Default::default()).unwrap()).await
    }

    async fn post_json(app: Router, uri: &str, body: &str) -> (StatusCode, serde_json::Value) {
        let req = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_string().into())
            .unwrap();
        call(app, req).await
    }

    fn end(dpid: u64, port_no: u32) -> model::End {
        model::End {
            dpid: model::Dpid(dpid),
            port_no,
        }
    }

    fn link(src: model::End, dst: model::End, tx_bps: f64) -> model::LinkView {
        model::LinkView {
            src,
            dst,
            tx_bps: Some(tx_bps),
            utilization: Some(tx_bps / 10e6),
            capacity_bps: Some(10e6),
            forecast: None,
        }
    }

    fn host(mac: &str, ip: &str, at: model::End) -> model::HostView {
        model::HostView {
            mac: mac.into(),
            ips: vec![ip.into()],
            dpid: at.dpid,
            port_no: at.port_no,
            tx_bps: Some(0.0),
            rx_bps: Some(0.0),
            speed_bps: Some(10e6),
        }
    }

    /// s1 - s2 - s3 in a line, 10 Mbit/s links; s1 -> s2 carries 9 Mbit/s.
    /// Nodes n1 and n2 on s1, n3 on s3; pod "db" (app=db) runs on n3.
    fn sample() -> model::Topology {
        let hosts = [(1, 1, "n1"), (1, 2, "n2"), (3, 1, "n3")];
        model::Topology {
            ready: true,
            switches: Arc::new(vec![model::Switch {
                dpid: model::Dpid(1),
                ports: vec![model::PortView {
                    port_no: 1,
                    name: "s1-eth1".into(),
                    hw_addr: "00:00:00:00:00:01".into(),
                    up: true,
                    curr_speed_kbps: 10_000_000,
                }],
            }]),
            links: vec![
                link(end(1, 3), end(2, 1), 9e6),
                link(end(2, 1), end(1, 3), 0.0),
                link(end(2, 2), end(3, 3), 0.0),
                link(end(3, 3), end(2, 2), 0.0),
            ],
            hosts: hosts
                .iter()
                .enumerate()
                .map(|(i, &(d, p, _))| {
                    host(
                        &format!("00:00:00:00:00:0{}", i + 1),
                        &format!("10.0.0.{}", i + 1),
                        end(d, p),
                    )
                })
                .collect(),
            groups: vec![],
            nodes: hosts
                .iter()
                .enumerate()
                .map(|(i, &(d, p, name))| model::NodeView {
                    name: name.into(),
                    ips: vec![format!("10.0.0.{}", i + 1)],
                    attachment: Some(end(d, p)),
                })
                .collect(),
            placements: vec![model::PlacementView {
                id: "b1".into(),
                state: "installed".into(),
                pods: vec![model::PodPlacement {
                    name: "db".into(),
                    namespace: "shop".into(),
                    node: "n3".into(),
                    ip: "10.0.0.3".into(),
                    labels: [("app".to_string(), "db".to_string())].into(),
                    traffic: vec![],
                }],
                routes: vec![],
            }],
        }
    }

    fn app_with(
        config: ApiConfig,
    ) -> (
        Router,
        watch::Sender<Arc<model::Topology>>,
        mpsc::Receiver<Command>,
    ) {
        let (tx, rx) = watch::channel(Arc::new(model::Topology::default()));
        let (ctx, crx) = mpsc::channel(4);
        let state = ApiState::new(rx, watch::channel(model::ControllerStats::default()).1, ctx);
        (router(state, config), tx, crx)
    }

    fn app() -> Router {
        let (app, tx, _) = app_with(ApiConfig {
            body_limit: 64 * 1024,
            ..ApiConfig::default()
        });
        tx.send(Arc::new(sample())).unwrap();
        app
    }

    /// A history of one port of switch 0xa: port 1 has a sample every second
    /// from t = 1000 s to 1009 s (rx_bps = the second), others none.
    struct FakeHistory;

    impl RateHistory for FakeHistory {
        fn port_history(
            &self,
            dpid: u64,
            port_no: u32,
            resolution: model::HistoryResolution,
            window: std::ops::Range<u64>,
        ) -> Result<Vec<model::RateSample>, String> {
            if resolution == model::HistoryResolution::Minute {
                return Err("minute table unreadable".into());
            }
            let known = dpid == 0xa && port_no == 1;
            Ok((1000..1010u64)
                .map(|sec| sec * 1000)
                .filter(|t| known && window.contains(t))
                .map(|unix_ms| model::RateSample {
                    unix_ms,
                    rates: model::PortRates {
                        rx_bps: (unix_ms / 1000) as f64,
                        speed_bps: Some(1e7),
                        ..model::PortRates::ZERO
                    },
                })
                .collect())
        }
    }

    #[tokio::test]
    async fn port_history_serves_a_window_and_refuses_bad_queries_in_json() {
        let (tx, rx) = watch::channel(Arc::new(sample()));
        let (ctx, _crx) = mpsc::channel(4);
        let state = ApiState::new(rx, watch::channel(model::ControllerStats::default()).1, ctx);
        let without = router(state.clone(), ApiConfig::default());
        let app = router(
            state.with_history(Arc::new(FakeHistory)),
            ApiConfig::default(),
        );
        let base = "/api/v1/switches/000000000000000a/ports/1/history";
        let (status, body) =
            get_json(app.clone(), &format!("{base}?from=1002000&to=1005000")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["dpid"], "000000000000000a");
        assert_eq!(body["resolution"], "poll");
        let rx: Vec<_> = body["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["rx_bps"].clone())
            .collect();
        assert_eq!(rx, vec![1002.0, 1003.0, 1004.0]);
        // By default the last 5 minutes up to `to`.
        let (_, body) = get_json(app.clone(), &format!("{base}?to=1009500")).await;
        assert_eq!(body["from"], 1009500 - 300_000);
        assert_eq!(body["samples"].as_array().unwrap().len(), 10);
        for (uri, status) in [
            (format!("{base}?from=5&to=5"), StatusCode::BAD_REQUEST),
            (
                format!("{base}?from=0&to=99999999"),
                StatusCode::BAD_REQUEST,
            ),
            (format!("{base}?resolution=hourly"), StatusCode::BAD_REQUEST),
            (format!("{base}?from_ms=5"), StatusCode::BAD_REQUEST),
            (
                "/api/v1/switches/%FF/ports/1/history".into(),
                StatusCode::BAD_REQUEST,
            ),
            (format!("{base}?from=-1"), StatusCode::BAD_REQUEST),
            (
                "/api/v1/switches/xyz/ports/1/history".into(),
                StatusCode::BAD_REQUEST,
            ),
            (
                "/api/v1/switches/a/ports/one/history".into(),
                StatusCode::BAD_REQUEST,
            ),
            (
                format!("{base}?resolution=minute"),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            ("/api/v1/paths?from=h1".into(), StatusCode::BAD_REQUEST),
        ] {
            let (got, body) = get_json(app.clone(), &uri).await;
            assert_eq!(got, status, "{uri}: {body}");
            assert!(body["error"].is_string(), "{uri}: a JSON error, not {body}");
        }
        // The longest window is served; `from` alone gets the longest after it.
        let six_hours = 6 * 3_600_000;
        let (status, _) = get_json(app.clone(), &format!("{base}?from=0&to={six_hours}")).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = get_json(app.clone(), &format!("{base}?from=1000")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["to"], 1000 + six_hours);
        let (status, body) = get_json(without, base).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body["error"].is_string());
        drop(tx);
    }

    /// A v1.Pod as kube-scheduler serialises it, with edgeflow's annotations.
    fn pod(annotations: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "kind": "Pod", "apiVersion": "v1",
            "metadata": {
                "name": "web-7d4b9c", "namespace": "shop", "uid": "4b1c6c1e-8f57-4c7e-9a53-1f0c1f7a9b10",
                "resourceVersion": "1234", "creationTimestamp": "2026-11-25T10:00:00Z",
                "labels": {"app": "web"}, "annotations": annotations,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9c",
                                      "uid": "11111111-2222-3333-4444-555555555555", "controller": true}]
            },
            "spec": {
                "containers": [{"name": "web", "image": "nginx:1.27",
                                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                                "ports": [{"containerPort": 80, "protocol": "TCP"}]}],
                "restartPolicy": "Always", "schedulerName": "default-scheduler",
                "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                                 "effect": "NoExecute", "tolerationSeconds": 300}]
            },
            "status": {"phase": "Pending", "qosClass": "Burstable"}
        })
    }

    #[tokio::test]
    async fn topology_serves_the_newest_snapshot() {
        let (status, body) = get_json(app(), "/api/v1/topology").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["switches"][0]["dpid"], "0000000000000001");
        assert_eq!(body["links"][0]["dst"]["dpid"], "0000000000000002");
        assert_eq!(body["links"][0]["capacity_bps"], 10e6);
        assert_eq!(body["nodes"][2]["attachment"]["dpid"], "0000000000000003");
    }

    #[tokio::test]
    async fn not_ready_until_first_snapshot_and_json_404() {
        let (app, tx, _) = app_with(ApiConfig::default());
        let (status, body) = get_json(app.clone(), "/health/ready").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body["error"].is_string());
        tx.send(Arc::new(sample())).unwrap();
        let (status, _) = get_json(app.clone(), "/health/ready").await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = get_json(app.clone(), "/api/v1/nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body["error"].is_string());
        let (status, body) = get_json(app, "/api/v1/stats").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["packet_in"], 0);
    }

    #[tokio::test]
    async fn filter_drops_nodes_whose_uplinks_cannot_carry_the_pods_bandwidth() {
        let args = serde_json::json!({
            "Pod": pod(serde_json::json!({"edgeflow.io/bandwidth": "5M"})),
            "Nodes": null,
            "NodeNames": ["n1", "n2", "n3", "unknown"],
        });
        let (status, body) = post_json(app(), "/api/v1/scheduler/filter", &args.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // s1's only uplink has 1 Mbit/s spare: n1 and n2 fail; n3 and the
        // node edgeflow does not know pass.
        assert_eq!(body["NodeNames"], serde_json::json!(["n3", "unknown"]));
        assert!(body["FailedNodes"]["n1"]
            .as_str()
            .unwrap()
            .contains("needs 5.0"));
        assert_eq!(body["FailedAndUnresolvableNodes"], serde_json::json!({}));
        assert_eq!(body["Error"], "");
        assert!(body["Nodes"].is_null());
    }

    #[tokio::test]
    async fn filter_answers_a_node_list_with_a_node_list() {
        let node = |name: &str| {
            serde_json::json!({"metadata": {"name": name, "labels": {"zone": "a"}},
                                                    "status": {"capacity": {"cpu": "4"}}})
        };
        let args = serde_json::json!({
            "Pod": pod(serde_json::json!({"edgeflow.io/bandwidth": "2M"})),
            "Nodes": {"kind": "NodeList", "apiVersion": "v1", "items": [node("n1"), node("n3")]},
            "NodeNames": null,
        });
        let (status, body) = post_json(app(), "/api/v1/scheduler/filter", &args.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["Nodes"]["items"], serde_json::json!([node("n3")]));
        assert!(body["NodeNames"].is_null());
    }

    #[tokio::test]
    async fn prioritize_prefers_nodes_near_the_peers() {
        let args = serde_json::json!({
            "Pod": pod(serde_json::json!({"edgeflow.io/peers": "app=db"})),
            "NodeNames": ["n1", "n3", "unknown"],
        });
        let (status, body) =
            post_json(app(), "/api/v1/scheduler/prioritize", &args.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let scores: BTreeMap<String, i64> = body
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["Host"].as_str().unwrap().to_string(),
                    h["Score"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(scores["n3"], 10, "the peer's own node");
        assert!(
            scores["n1"] < scores["n3"] && scores["n1"] > 0,
            "{scores:?}"
        );
        assert_eq!(scores["unknown"], 0);
    }

    #[tokio::test]
    async fn bad_requests_get_json_errors_that_name_the_problem() {
        let (status, body) = post_json(app(), "/api/v1/scheduler/filter", "{not json").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["error"].as_str().unwrap().contains("JSON"), "{body}");
        let (status, body) =
            post_json(app(), "/api/v1/scheduler/filter", r#"{"NodeNames": []}"#).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["error"].as_str().unwrap().contains("Pod"), "{body}");
        let args = serde_json::json!({"Pod": pod(serde_json::json!({"edgeflow.io/bandwidth": "fast"})),
                                      "NodeNames": ["n1"]});
        let (status, body) = post_json(app(), "/api/v1/scheduler/filter", &args.to_string()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("edgeflow.io/bandwidth"),
            "{body}"
        );
        let huge = format!(r#"{{"NodeNames": ["{}"]}}"#, "n".repeat(100_000));
        let (status, body) = post_json(app(), "/api/v1/scheduler/filter", &huge).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(body["error"].is_string(), "{body}");
        let req = Request::post("/api/v1/scheduler/filter")
            .body(axum::body::Body::from("{}"))
            .unwrap();
        let (status, body) = call(app(), req).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(body["error"].is_string());
    }

    #[tokio::test]
    async fn a_configured_token_is_required_except_for_health_checks() {
        let (app, tx, _) = app_with(ApiConfig {
            token: Some("s3cret".into()),
            body_limit: 1 << 20,
        });
        tx.send(Arc::new(sample())).unwrap();
        let (status, body) = get_json(app.clone(), "/api/v1/topology").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body["error"].as_str().unwrap().contains("Bearer"));
        let req = Request::get("/api/v1/topology")
            .header(header::AUTHORIZATION, "Bearer wrong")
            .body(Default::default())
            .unwrap();
        assert_eq!(call(app.clone(), req).await.0, StatusCode::UNAUTHORIZED);
        let req = Request::get("/api/v1/topology")
            .header(header::AUTHORIZATION, "Bearer s3cret")
            .body(Default::default())
            .unwrap();
        assert_eq!(call(app.clone(), req).await.0, StatusCode::OK);
        assert_eq!(get_json(app, "/health/live").await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn openapi_document_lists_the_routes() {
        let (status, body) = get_json(app(), "/api/v1/openapi.json").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body["openapi"].as_str().unwrap().starts_with("3."));
        for path in [
            "/api/v1/scheduler/filter",
            "/api/v1/placements",
            "/api/v1/topology",
            "/metrics",
        ] {
            assert!(body["paths"][path].is_object(), "{path} missing");
        }
    }

    #[tokio::test]
    async fn paths_between_nodes_report_hops_and_spare_bandwidth() {
        let (status, body) = get_json(app(), "/api/v1/paths?from=n1&to=n3").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["hops"], 2);
        assert_eq!(body["capacity"]["available_bps"], 1e6);
        let (status, body) = get_json(app(), "/api/v1/paths?from=n1&to=nowhere").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body["error"].as_str().unwrap().contains("nowhere"));
    }

    #[tokio::test]
    async fn writes_are_answered_by_the_controller() {
        let (app, tx, mut commands) = app_with(ApiConfig {
            body_limit: 1 << 20,
            ..ApiConfig::default()
        });
        tx.send(Arc::new(sample())).unwrap();
        tokio::spawn(async move {
            while let Some(cmd) = commands.recv().await {
                if let Command::PutPlacement(batch, reply) = cmd {
                    let view = model::PlacementView {
                        id: batch.id,
                        state: "pending".into(),
                        pods: batch.pods,
                        routes: vec![],
                    };
                    let _ = reply.send(Ok((StatusCode::CREATED, view)));
                }
            }
        });
        let body = r#"{"id": "b2", "pods": [{"name": "web", "node": "n1", "ip": "10.0.0.1",
                       "traffic": [{"to": "db", "bps": 1000000}]}]}"#;
        let (status, json) = post_json(app.clone(), "/api/v1/placements", body).await;
        assert_eq!(status, StatusCode::CREATED, "{json}");
        assert_eq!(json["pods"][0]["namespace"], "default");
        let (status, json) = post_json(
            app,
            "/api/v1/placements",
            r#"{"id": "b3", "pods": [{"name": "x"}]}"#,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(json["error"].as_str().unwrap().contains("node"), "{json}");
    }
}

//! edgeflow's northbound REST API (axum), under `/api/v1`.
//!
//! The controller publishes a snapshot of its state through a
//! `tokio::sync::watch` channel whenever the state changes; handlers read the
//! newest snapshot and never wait on the controller's event loop.

pub mod model;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;
use tokio::sync::watch;

/// What the handlers read: the newest snapshots the controller published.
#[derive(Clone)]
pub struct ApiState {
    topology: watch::Receiver<Arc<model::Topology>>,
    stats: watch::Receiver<model::ControllerStats>,
}

impl ApiState {
    /// State reading snapshots from the controller's channels.
    pub fn new(
        topology: watch::Receiver<Arc<model::Topology>>,
        stats: watch::Receiver<model::ControllerStats>,
    ) -> ApiState {
        ApiState { topology, stats }
    }
}

/// The API's routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/v1/topology", get(topology))
        .route("/api/v1/stats", get(stats))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .fallback(not_found)
        .with_state(state)
}

async fn topology(State(s): State<ApiState>) -> Json<Arc<model::Topology>> {
    Json(s.topology.borrow().clone())
}

async fn stats(State(s): State<ApiState>) -> Json<model::ControllerStats> {
    Json(*s.stats.borrow())
}

async fn live() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "live"}))
}

/// Ready once the controller has published its first snapshot.
async fn ready(State(s): State<ApiState>) -> Response {
    if s.topology.borrow().ready {
        Json(serde_json::json!({"status": "ready"})).into_response()
    } else {
        error(StatusCode::SERVICE_UNAVAILABLE, "controller is starting")
    }
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such resource")
}

/// A JSON error body `{"error": "..."}` with a status.
fn error(status: StatusCode, msg: &str) -> Response {
    (status, Json(serde_json::json!({ "error": msg }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn get_json(app: Router, uri: &str) -> (StatusCode, serde_json::Value) {
        let resp = app
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap())
    }

    fn sample() -> model::Topology {
        model::Topology {
            ready: true,
            switches: vec![model::Switch {
                dpid: model::Dpid(1),
                ports: vec![model::PortView {
                    port_no: 1,
                    name: "s1-eth1".into(),
                    hw_addr: "00:00:00:00:00:01".into(),
                    up: true,
                    curr_speed_kbps: 10_000_000,
                }],
            }],
            links: vec![model::LinkView {
                src: model::End {
                    dpid: model::Dpid(1),
                    port_no: 1,
                },
                dst: model::End {
                    dpid: model::Dpid(2),
                    port_no: 3,
                },
                tx_bps: Some(1e6),
                utilization: Some(0.1),
                forecast: None,
            }],
            hosts: vec![],
            groups: vec![],
        }
    }

    #[tokio::test]
    async fn topology_serves_the_newest_snapshot() {
        let (tx, rx) = watch::channel(Arc::new(model::Topology::default()));
        let app = router(ApiState::new(
            rx,
            watch::channel(model::ControllerStats::default()).1,
        ));
        tx.send(Arc::new(sample())).unwrap();
        let (status, body) = get_json(app, "/api/v1/topology").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["switches"][0]["dpid"], "0000000000000001");
        assert_eq!(body["links"][0]["dst"]["dpid"], "0000000000000002");
        assert_eq!(body["links"][0]["dst"]["port_no"], 3);
    }

    #[tokio::test]
    async fn not_ready_until_first_snapshot_and_json_404() {
        let (tx, rx) = watch::channel(Arc::new(model::Topology::default()));
        let app = router(ApiState::new(
            rx,
            watch::channel(model::ControllerStats::default()).1,
        ));
        let (status, _) = get_json(app.clone(), "/health/ready").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
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
}

//! `edgeflow run` as a process: nodes and placements written through the
//! API survive a restart, the token is enforced, bad bodies get JSON
//! errors, and a switch connection closed for a protocol error is closed
//! for good. Only loopback ports are used.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Running {
    child: Child,
    api: SocketAddr,
    openflow: SocketAddr,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(state: &std::path::Path) -> Running {
    start_with(state, &[])
}

/// Starts `edgeflow run` with more arguments (`--config FILE`, say).
fn start_with(state: &std::path::Path, args: &[&std::ffi::OsStr]) -> Running {
    let (of, api) = (free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_edgeflow"))
        .args(["run", "--listen", &format!("127.0.0.1:{of}")])
        .args(args)
        .args(["--api-listen", &format!("127.0.0.1:{api}")])
        .arg("--state")
        .arg(state)
        .env("EDGEFLOW_API_TOKEN", "t0ken")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let running = Running {
        child,
        api: SocketAddr::from(([127, 0, 0, 1], api)),
        openflow: SocketAddr::from(([127, 0, 0, 1], of)),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while request(running.api, "GET", "/health/ready", None, None).0 != 200 {
        assert!(Instant::now() < deadline, "edgeflow did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    running
}

/// One HTTP/1.1 request; (status, body). Status 0 if nothing answered.
fn request(
    api: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(api) else {
        return (0, String::new());
    };
    let body = body.unwrap_or("");
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    let status = resp
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = resp.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[test]
fn nodes_and_placements_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("edgeflow-restart-{}", std::process::id()));
    let state = dir.join("state.redb");
    let batch = r#"{"id": "b1", "pods": [
        {"name": "web", "node": "n1", "ip": "10.0.0.1", "traffic": [{"to": "db", "bps": 1e6}]},
        {"name": "db", "node": "n2", "ip": "10.0.0.2"}]}"#;
    {
        let ef = start(&state);
        let tok = Some("t0ken");
        let (status, body) = request(ef.api, "GET", "/api/v1/topology", None, None);
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("error"));
        let node = r#"{"name": "n1", "ips": ["10.0.0.1"]}"#;
        assert_eq!(
            request(ef.api, "PUT", "/api/v1/nodes/n1", Some(node), tok).0,
            200
        );
        let (status, body) = request(ef.api, "POST", "/api/v1/placements", Some(batch), tok);
        assert_eq!(status, 201, "{body}");
        assert!(
            body.contains(r#""state":"pending""#),
            "no hosts seen yet: {body}"
        );
        let (status, body) = request(ef.api, "POST", "/api/v1/placements", Some("{"), tok);
        assert_eq!(status, 400);
        assert!(body.contains("error"), "{body}");
    }
    let ef = start(&state);
    let tok = Some("t0ken");
    let (status, body) = request(ef.api, "GET", "/api/v1/nodes", None, tok);
    assert_eq!(status, 200);
    assert!(body.contains(r#""name":"n1""#), "{body}");
    let (status, body) = request(ef.api, "GET", "/api/v1/placements/b1", None, tok);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""to":"db""#), "{body}");
    // The same batch again is known; deleting it is stored too.
    assert_eq!(
        request(ef.api, "POST", "/api/v1/placements", Some(batch), tok).0,
        200
    );
    assert_eq!(
        request(ef.api, "DELETE", "/api/v1/placements/b1", None, tok).0,
        200
    );
    drop(ef);
    let ef = start(&state);
    let (status, _) = request(ef.api, "GET", "/api/v1/placements/b1", None, tok);
    assert_eq!(status, 404);
    drop(ef);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_switch_sending_a_bad_frame_gets_an_error_and_its_connection_is_closed() {
    let dir = std::env::temp_dir().join(format!("edgeflow-badframe-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ef = start(&dir.join("state.redb"));
    let mut s = TcpStream::connect(ef.openflow).unwrap();
    // HELLO, then a header whose length (4) is below the header's own size.
    s.write_all(&[4, 0, 0, 8, 0, 0, 0, 1, 4, 0, 0, 4, 0, 0, 0, 2])
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got)
        .expect("the controller closes the connection");
    let mut types = Vec::new();
    let mut at = 0;
    while at + 4 <= got.len() {
        types.push(got[at + 1]);
        at += usize::from(u16::from_be_bytes([got[at + 2], got[at + 3]])).max(8);
    }
    assert!(
        types.contains(&1),
        "an OFPT_ERROR before the close: {types:?}"
    );
    // The controller's end is closed too (its socket belongs to no process
    // any more), although this end stays open and silent: it used to wait
    // for the switch to send again.
    let ours = s.local_addr().unwrap().port();
    let deadline = Instant::now() + Duration::from_secs(5);
    while controller_holds(ef.openflow.port(), ours) {
        assert!(
            Instant::now() < deadline,
            "the controller keeps the socket open"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(s);
    drop(ef);
    std::fs::remove_dir_all(dir).unwrap();
}

/// CPU time (user and system) a process has used.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces), from field 3.
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // Linux reports in clock ticks of 1/100 s (USER_HZ).
    Duration::from_millis(ticks * 10)
}

#[test]
fn busy_polling_runs_after_input_and_stops_after_its_window() {
    let dir = std::env::temp_dir().join(format!("edgeflow-busypoll-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("edgeflow.toml");
    // The longest window, a second: long enough to see on a busy machine.
    std::fs::write(&config, "busy_poll_us = 1000000\n").unwrap();
    let ef = start_with(
        &dir.join("state.redb"),
        &["--config".as_ref(), config.as_os_str()],
    );
    let pid = ef.child.id();
    // Input from a switch (a HELLO) starts the window.
    let mut s = TcpStream::connect(ef.openflow).unwrap();
    s.write_all(&[4, 0, 0, 8, 0, 0, 0, 1]).unwrap();
    let used = |wall: Duration| {
        let before = cpu_time(pid);
        std::thread::sleep(wall);
        cpu_time(pid) - before
    };
    let polling = used(Duration::from_millis(500));
    // Without busy polling an idle controller uses next to nothing; a
    // polling one a core, or at least a good share of one on a busy machine.
    assert!(
        polling >= Duration::from_millis(100),
        "{polling:?} of CPU in 0.5 s of busy polling"
    );
    std::thread::sleep(Duration::from_millis(1000));
    let asleep = used(Duration::from_millis(1000));
    assert!(
        asleep <= Duration::from_millis(100),
        "{asleep:?} of CPU in 1 s after the window"
    );
    drop(s);
    drop(ef);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Whether a process still holds the socket of the connection from local
/// port `of` to remote port `peer` (in /proc/net/tcp a socket no process
/// holds any more has inode 0, or is gone).
fn controller_holds(of: u16, peer: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let port = |addr: &str| u16::from_str_radix(addr.rsplit(':').next().unwrap(), 16).unwrap();
    table.lines().skip(1).any(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        port(f[1]) == of && port(f[2]) == peer && f[9] != "0"
    })
}

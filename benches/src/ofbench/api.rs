//! Just enough HTTP/1.1 to read the controller's topology from its REST API
//! (`GET /api/v1/topology`) without a client library.

use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// What the controller reports about the fabric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopologyCounts {
    /// Switches that finished the handshake.
    pub switches: usize,
    /// Directed links.
    pub links: usize,
}

/// The body of `GET path` from the server at `addr` (host:port).
pub fn get(addr: &str, path: &str) -> Result<Vec<u8>> {
    let mut s = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\n\r\n"
    )?;
    let mut response = Vec::new();
    s.read_to_end(&mut response)?;
    body(&response)
}

/// The body of a complete HTTP/1.1 response (plain or chunked); an error
/// for any status but 200.
fn body(response: &[u8]) -> Result<Vec<u8>> {
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers")?;
    let head = std::str::from_utf8(&response[..split])?;
    let rest = &response[split + 4..];
    let status = head.split_whitespace().nth(1).unwrap_or_default();
    if status != "200" {
        bail!("HTTP status {status}");
    }
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if !chunked {
        return Ok(rest.to_vec());
    }
    let mut out = Vec::new();
    let mut at = rest;
    loop {
        let eol = at
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("chunk size without end of line")?;
        let size_text = std::str::from_utf8(&at[..eol])?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)?;
        if size == 0 {
            return Ok(out);
        }
        let data = at
            .get(eol + 2..eol + 2 + size)
            .context("chunk shorter than its size")?;
        out.extend_from_slice(data);
        at = at.get(eol + 4 + size..).context("chunk without end")?;
    }
}

/// Switches and directed links in a topology document.
pub fn counts(topology: &[u8]) -> Result<TopologyCounts> {
    let v: serde_json::Value = serde_json::from_slice(topology)?;
    let len = |key: &str| v.get(key).and_then(|a| a.as_array()).map_or(0, Vec::len);
    Ok(TopologyCounts {
        switches: len("switches"),
        links: len("links"),
    })
}

/// The controller's current view, from its API at `addr`.
pub fn topology_counts(addr: &str) -> Result<TopologyCounts> {
    counts(&get(addr, "/api/v1/topology")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_chunked_bodies_are_read() {
        let plain = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(body(plain).unwrap(), b"{}");
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n";
        assert_eq!(body(chunked).unwrap(), b"{\"a\":1}");
    }

    #[test]
    fn an_error_status_is_an_error() {
        assert!(body(b"HTTP/1.1 503 Service Unavailable\r\n\r\nnot ready").is_err());
    }

    #[test]
    fn links_and_switches_are_counted() {
        let doc = br#"{"switches":[{"dpid":"1"},{"dpid":"2"}],"links":[{},{}],"hosts":[]}"#;
        assert_eq!(
            counts(doc).unwrap(),
            TopologyCounts {
                switches: 2,
                links: 2
            }
        );
    }
}

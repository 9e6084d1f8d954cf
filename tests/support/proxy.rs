//! The fault-injecting proxy (`flaky_proxy.py`) in front of the moto server,
//! or of any S3 server the harness runs (`Proxy::start_to`).
//! Test files that use it include this file with `#[path]`.
#![allow(dead_code)]

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

use super::{moto, moto_python, repo};

pub struct Proxy {
    child: Child,
    pub url: String,
}

impl Proxy {
    /// `every`: every N-th PUT answered 503/500 (0: none); `faults`:
    /// `KIND:MATCH:COUNT[:SECS]`, as flaky_proxy.py describes.
    pub fn start(every: u32, faults: &[&str]) -> Self {
        Self::start_to(moto(), every, faults)
    }

    /// As `start`, in front of the server at `upstream` (`http://HOST:PORT`).
    pub fn start_to(upstream: &str, every: u32, faults: &[&str]) -> Self {
        let (host, port) = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .rsplit_once(':')
            .unwrap_or_else(|| panic!("upstream {upstream} is not http://HOST:PORT"));
        let mut child = Command::new(moto_python())
            .arg(repo().join("tests/support/flaky_proxy.py"))
            .args([host, port, &every.to_string()])
            .args(faults)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the fault-injecting proxy");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        Self {
            child,
            url: format!("http://127.0.0.1:{}", line.trim()),
        }
    }

    /// Faults injected so far, by kind.
    pub fn stats(&self) -> serde_json::Value {
        serde_json::from_str(&http_get(&format!("{}/__stats", self.url))).unwrap()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP GET's body, without an HTTP client dependency.
fn http_get(url: &str) -> String {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let (host, path) = addr.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text.split_once("\r\n\r\n").unwrap().1.to_string()
}

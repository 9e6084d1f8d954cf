//! A local mock server written in Python (`tests/support/mock_*.py`):
//! started with a free port it prints, asked over plain HTTP/1.1, killed
//! when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

use super::repo;

pub struct Mock {
    pub url: String,
    child: Child,
}

impl Mock {
    /// Run `tests/support/<script>` with `args`; it prints its port.
    pub fn start(script: &str, args: &[&str]) -> Self {
        let mut child = Command::new("python3")
            .arg(repo().join("tests/support").join(script))
            .args(args)
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {script} (python3): {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line.trim().parse().expect("mock port");
        Self {
            url: format!("http://127.0.0.1:{port}"),
            child,
        }
    }

    /// One request; the answer's body as JSON.
    pub fn call(&self, method: &str, path: &str, body: &str) -> serde_json::Value {
        let addr = self.url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let body = text.split_once("\r\n\r\n").unwrap().1;
        serde_json::from_str(body).unwrap()
    }

    /// What the mock recorded (`GET /_mock/requests`).
    pub fn requests(&self) -> Vec<serde_json::Value> {
        self.call("GET", "/_mock/requests", "")
            .as_array()
            .unwrap()
            .clone()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

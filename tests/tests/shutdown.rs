//! SIGTERM under load: every request the server accepted is answered before it exits.
//!
//! Many clients keep HTTP/1.1 connections alive and send searches back to back while the
//! server, pinned to one CPU so that requests wait their turn, is told to stop. The clients
//! speak raw HTTP over TCP on purpose: a pooled client (reqwest, hyper) silently retries a
//! request whose reused connection was closed under it, which would hide exactly the failure
//! this drill counts.

use provider_e2e_tests::Server;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 64;
const SEARCH: &str = r#"{"skills": ["drain testing"]}"#;

/// What the clients saw, summed over all of them.
#[derive(Default)]
struct Tally {
    /// Complete answers.
    answered: AtomicU64,
    /// Complete answers that said `Connection: close` (the connection was drained).
    told_to_close: AtomicU64,
    /// Answers other than 200.
    not_ok: AtomicU64,
    /// Requests written on a connection that had already been answered (so the server had
    /// accepted it), or on any connection before SIGTERM, that got no complete answer: the
    /// failure graceful shutdown must not have.
    dropped: AtomicU64,
    /// Connections opened after SIGTERM that were refused, or reset before the server took
    /// them: the server had stopped accepting, as it should.
    refused: AtomicU64,
}

#[derive(Debug)]
enum Outcome {
    Answered { status: u16, close: bool },
    Failed(std::io::Error),
}

/// Writes one search on `stream` and reads its whole answer.
fn exchange(stream: &mut TcpStream) -> Outcome {
    let request = format!(
        "POST /v1_0/service-providers HTTP/1.1\r\nhost: 127.0.0.1\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{SEARCH}",
        SEARCH.len()
    );
    if let Err(error) = stream.write_all(request.as_bytes()) {
        return Outcome::Failed(error);
    }
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let status: u16 = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .expect("a status line");
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().expect("a content length"))
                .expect("answers carry content-length");
            let close = head
                .lines()
                .any(|l| l.starts_with("connection:") && l.contains("close"));
            if buffer.len() >= end + 4 + length {
                return Outcome::Answered { status, close };
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) => {
                return Outcome::Failed(std::io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "closed before the answer was complete",
                ))
            }
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(error) => return Outcome::Failed(error),
        }
    }
}

/// One keep-alive client: searches until the server refuses to connect.
fn client(addr: SocketAddr, terminated: &AtomicBool, tally: &Tally) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let opened_after_sigterm = terminated.load(Ordering::SeqCst);
        let mut stream = match TcpStream::connect(addr) {
            Ok(stream) => stream,
            Err(error) => {
                assert!(
                    opened_after_sigterm || terminated.load(Ordering::SeqCst),
                    "connect failed before SIGTERM: {error}"
                );
                tally.refused.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("a read timeout");
        let mut answered_here = 0u64;
        loop {
            match exchange(&mut stream) {
                Outcome::Answered { status, close } => {
                    answered_here += 1;
                    tally.answered.fetch_add(1, Ordering::Relaxed);
                    if status != 200 {
                        tally.not_ok.fetch_add(1, Ordering::Relaxed);
                    }
                    if close {
                        tally.told_to_close.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
                Outcome::Failed(error) => {
                    assert_ne!(error.kind(), ErrorKind::WouldBlock, "no answer within 30 s");
                    if answered_here == 0 && opened_after_sigterm {
                        tally.refused.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    tally.dropped.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
        }
    }
}

/// Runs the clients against a fresh server, sends SIGTERM after `warm_up`, and returns what
/// they saw once the server has exited (asserting it exited with 0).
fn drill(warm_up: Duration) -> Tally {
    let server = Server::start_on_one_cpu(&[("WORKERS", "2")]);
    let addr: SocketAddr = server
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("a socket address");
    let terminated = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (terminated, tally) = (terminated.clone(), tally.clone());
            std::thread::spawn(move || client(addr, &terminated, &tally))
        })
        .collect();
    std::thread::sleep(warm_up);
    let before = tally.answered.load(Ordering::SeqCst);
    assert!(before > 0, "no answer during the warm-up");
    terminated.store(true, Ordering::SeqCst);
    let (status, log) = server.terminate();
    for client in clients {
        client.join().expect("a client panicked");
    }
    assert!(
        status.success(),
        "exit status {status}; it said:\n{}",
        log.join("\n")
    );
    Arc::into_inner(tally).expect("every client is done")
}

#[test]
fn sigterm_under_load_answers_every_accepted_request() {
    for warm_up_ms in [300, 800, 1300] {
        let tally = drill(Duration::from_millis(warm_up_ms));
        let count = |n: &AtomicU64| n.load(Ordering::SeqCst);
        eprintln!(
            "warm-up {warm_up_ms} ms: answered {}, told to close {}, dropped {}, refused {}",
            count(&tally.answered),
            count(&tally.told_to_close),
            count(&tally.dropped),
            count(&tally.refused),
        );
        assert_eq!(count(&tally.not_ok), 0, "answers other than 200");
        assert_eq!(
            count(&tally.dropped),
            0,
            "requests the server had accepted got no answer (warm-up {warm_up_ms} ms)"
        );
        // The drill only means something if SIGTERM found connections in use.
        assert!(
            count(&tally.told_to_close) > 0,
            "no connection was drained with `Connection: close`"
        );
    }
}

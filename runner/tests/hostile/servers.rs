//! Hostile loopback gateways for the hostile tests: fixed answers, redirects, huge, endless and
//! escape-laden bodies, the Bearer token echoed at chosen offsets, a liveness answer held until
//! the test releases it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

/// Answers every request with `answer` (a whole HTTP/1.1 response) on 127.0.0.1; counts requests.
pub fn fixed_server(answer: String) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let url = server(move |_, stream| {
        counter.fetch_add(1, Ordering::SeqCst);
        let _ = stream.write_all(answer.as_bytes());
    });
    (url, hits)
}

/// A loopback server reading one request per connection (on its own thread) and handing its head
/// and the stream to `answer`; returns its URL.
pub fn server(answer: impl Fn(&str, &mut TcpStream) + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let url = format!("http://{}", listener.local_addr().unwrap_or_else(|e| panic!("addr: {e}")));
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                let n = stream.read(&mut buf).unwrap_or(0);
                answer(&String::from_utf8_lossy(&buf[..n]), &mut stream);
            });
        }
    });
    url
}

/// The path of a request head.
pub fn path(head: &str) -> &str {
    head.split_whitespace().nth(1).unwrap_or("/")
}

/// Whether the request is for the health listener (readiness or liveness).
pub fn is_health(head: &str) -> bool {
    let path = path(head);
    path.ends_with("/health") || path.ends_with("/healthz") || path.ends_with("/readyz")
}

/// A whole answer with `status` and `body`, closing the connection.
pub fn answer(status: &str, body: &str) -> String {
    format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
}

/// Answers readiness and health 200, everything else 500 with `body`.
pub fn hostile_gateway(body: &'static str) -> String {
    server(move |head, stream| {
        let text = if is_health(head) { answer("200 OK", "{}") } else { answer("500 Oops", body) };
        let _ = stream.write_all(text.as_bytes());
    })
}

/// Readiness and liveness 200; every other request gets a 500 whose chunked body never ends.
pub fn endless_gateway() -> String {
    server(|head, stream| {
        if is_health(head) {
            let _ = stream.write_all(answer("200 OK", "{}").as_bytes());
            return;
        }
        let _ = stream.write_all(b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n");
        let chunk = format!("10000\r\n{}\r\n", "A".repeat(0x10000));
        // Bounded on our side too: at most 4 GiB, or until the runner hangs up.
        for _ in 0..65536 {
            if stream.write_all(chunk.as_bytes()).is_err() {
                return;
            }
        }
    })
}

/// Readiness and liveness 200; every other request gets a 500 announcing and sending a body of
/// `mib` MiB.
pub fn huge_gateway(mib: usize) -> String {
    server(move |head, stream| {
        if is_health(head) {
            let _ = stream.write_all(answer("200 OK", "{}").as_bytes());
            return;
        }
        let start = format!("HTTP/1.1 500 Oops\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", mib << 20);
        let mib_of_text = "B".repeat(1 << 20);
        let _ = stream.write_all(start.as_bytes());
        for _ in 0..mib {
            if stream.write_all(mib_of_text.as_bytes()).is_err() {
                return;
            }
        }
    })
}

/// Readiness and liveness 200; every other request gets a 500 whose body holds the request's
/// Bearer token so that it starts `shift` characters before byte `cut`, `shift` going 0, 1, ...
/// `token length + 2` and round again, one step per request. Returns the URL and the number of
/// requests that carried a token.
pub fn token_echo_gateway(cut: usize) -> (String, Arc<AtomicUsize>) {
    let echoed = Arc::new(AtomicUsize::new(0));
    let counter = echoed.clone();
    let url = server(move |head, stream| {
        if is_health(head) {
            let _ = stream.write_all(answer("200 OK", "{}").as_bytes());
            return;
        }
        let token = head
            .lines()
            .find_map(|l| l.strip_prefix("authorization: Bearer ").or_else(|| l.strip_prefix("Authorization: Bearer ")))
            .unwrap_or("")
            .trim();
        let n = counter.fetch_add(usize::from(!token.is_empty()), Ordering::SeqCst);
        let shift = n % (token.len() + 3);
        let body = format!("{}{token}{}", "x".repeat(cut - shift), "y".repeat(64));
        let _ = stream.write_all(answer("500 Oops", &body).as_bytes());
    });
    (url, echoed)
}

/// Readiness 200 at once; liveness (`/healthz`) answered 200 healthy only after the test sends on
/// the returned `release`; each liveness request is first announced on `asked`.
pub fn held_liveness_gateway() -> (String, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let (asked_tx, asked) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let (asked_tx, release_rx) = (Mutex::new(asked_tx), Mutex::new(release_rx));
    let url = server(move |head, stream| {
        let text = if path(head).ends_with("/healthz") {
            let _ = asked_tx.lock().map(|tx| tx.send(()));
            let _ = release_rx.lock().map(|rx| rx.recv());
            answer("200 OK", "{\"status\":\"healthy\",\"timestamp\":\"2026-01-01T00:00:00Z\"}")
        } else if is_health(head) {
            answer("200 OK", "{\"status\":\"ready\"}")
        } else {
            answer("404 Not Found", "")
        };
        let _ = stream.write_all(text.as_bytes());
    });
    (url, asked, release)
}

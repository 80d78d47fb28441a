//! Test support: run the built `runner` binary with a deadline, and a scriptable loopback HTTP
//! server standing in for a misbehaving gateway.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

/// The runner binary cargo built for these tests.
pub const RUNNER: &str = env!("CARGO_BIN_EXE_runner");

/// Longest any runner invocation in these tests may take.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// Runs the runner with `args` (CI set, so no progress bar) and returns its output.
pub async fn run(args: &[&str]) -> Output {
    let child = command(args).spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => panic!("cannot start {RUNNER}: {e}"),
    };
    match tokio::time::timeout(DEADLINE, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => panic!("runner failed to run: {e}"),
        Err(_) => panic!("runner did not finish within {DEADLINE:?}: {args:?}"),
    }
}

/// A runner command with piped output and a clean environment for our variables.
pub fn command(args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(RUNNER);
    cmd.args(args)
        .env("CI", "true")
        .env_remove("GATEWAY_URL")
        .env_remove("E2E_JOBS")
        .env_remove("E2E_JUNIT")
        .env_remove("KUBECONFIG")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Waits until a line of `reader` contains `needle`, returning the lines read.
pub async fn wait_for_line<R: tokio::io::AsyncRead + Unpin>(reader: &mut BufReader<R>, needle: &str) -> String {
    let mut seen = String::new();
    let found = tokio::time::timeout(DEADLINE, async {
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line).await {
                Ok(0) | Err(_) => return false,
                Ok(_) => {
                    seen.push_str(&line);
                    if line.contains(needle) {
                        return true;
                    }
                }
            }
        }
    })
    .await;
    assert_eq!(found, Ok(true), "no line containing {needle:?} in:\n{seen}");
    seen
}

/// Text of stdout and stderr.
pub fn texts(output: &Output) -> (String, String) {
    (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// A fresh JUnit path in a temp dir (kept alive by the returned guard).
pub fn junit_path() -> (tempfile::TempDir, PathBuf) {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let path = dir.path().join("out").join("junit.xml");
    (dir, path)
}

/// `path` as a command-line argument.
pub fn arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Runs the cases matching `filter` against the external gateway at `url` with `token` in a token
/// file, no cluster, every log shown; returns the output and the JUnit path (in the returned dir).
pub async fn run_with_token(filter: &str, url: &str, token: &str) -> (Output, tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let token_file = token_file_in(dir.path(), token);
    let junit = dir.path().join("junit.xml");
    let (token_arg, junit_arg) = (arg(&token_file), arg(&junit));
    let args = [
        filter,
        "--gateway-url",
        url,
        "--kube",
        "none",
        "--nocapture",
        "--token-file",
        &token_arg,
        "--junit",
        &junit_arg,
    ];
    (run(&args).await, dir, junit)
}

/// Writes `token` (one line) to a token file in `dir` and returns its path.
pub fn token_file_in(dir: &Path, token: &str) -> PathBuf {
    let path = dir.join("token");
    std::fs::write(&path, format!("{token}\n")).unwrap_or_else(|e| panic!("token file: {e}"));
    path
}

/// Parses a JUnit file with quick-junit.
pub fn read_junit(path: &Path) -> quick_junit::Report {
    let xml = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("no JUnit at {}: {e}", path.display()));
    quick_junit::Report::deserialize_from_str(&xml).unwrap_or_else(|e| panic!("JUnit does not parse: {e}\n{xml}"))
}

/// Whether the external `tool` can be started. When it cannot, prints why the caller skips and
/// returns `false`; with `E2E_REQUIRE_TOOLS=1` (as `.ci/run` sets) a missing tool fails instead.
pub fn tool_or_skip(tool: &str, install_hint: &str) -> bool {
    let started = std::process::Command::new(tool)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match started {
        Ok(_) => true,
        Err(e) if std::env::var("E2E_REQUIRE_TOOLS").is_ok_and(|v| v == "1") => {
            panic!("{tool} is required (E2E_REQUIRE_TOOLS=1) but cannot start: {e}; {install_hint}")
        }
        Err(e) => {
            eprintln!("skipped: {tool} cannot start ({e}); {install_hint}; E2E_REQUIRE_TOOLS=1 makes this fail");
            false
        }
    }
}

/// Validates a JUnit file against the vendored junit-4 XSD with xmllint (skipped without it).
pub fn assert_valid_junit4(path: &Path) {
    if !tool_or_skip("xmllint", "apt-get install libxml2-utils") {
        return;
    }
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/junit-4.xsd");
    let out = std::process::Command::new("xmllint").arg("--noout").arg("--schema").arg(&xsd).arg(path).output();
    let out = out.unwrap_or_else(|e| panic!("xmllint: {e}"));
    assert!(
        out.status.success(),
        "JUnit does not validate against junit-4.xsd:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A free loopback port with nothing listening on it.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_else(|e| panic!("addr: {e}"));
    drop(listener);
    port
}

/// How the fake gateway answers everything but `/health`.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// Never answer (hold the connection).
    Hang,
    /// 500 with a body full of ANSI escapes, NUL, `]]>` and U+FFFE.
    Garbage,
    /// 500 echoing the request's `Authorization` header in the body.
    EchoAuth,
}

/// Body the `Garbage` fake sends.
pub const GARBAGE: &str = "\u{1b}[31mred\u{1b}[0m nul:\u{0} cdata-end:]]> nonchar:\u{FFFE}\u{FFFF} bell:\u{7}";

/// Serves readiness (`/readyz`) and liveness (`/healthz`) 200 and answers other paths per `behaviour`, on 127.0.0.1; returns the URL.
pub fn fake_gateway(behaviour: Behaviour) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let url = format!("http://{}", listener.local_addr().unwrap_or_else(|e| panic!("addr: {e}")));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream, behaviour));
        }
    });
    url
}

fn serve(mut stream: TcpStream, behaviour: Behaviour) {
    loop {
        let Some(head) = read_request(&mut stream) else { return };
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let (status, body) = if path == "/readyz" {
            ("200 OK", "{\"status\":\"ready\"}".to_owned())
        } else if path == "/healthz" {
            ("200 OK", "{\"status\":\"healthy\",\"timestamp\":\"2026-01-01T00:00:00Z\"}".to_owned())
        } else {
            match behaviour {
                Behaviour::Hang => {
                    let mut sink = [0u8; 1024];
                    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
                    return;
                }
                Behaviour::Garbage => ("500 Internal Server Error", GARBAGE.to_owned()),
                Behaviour::EchoAuth => {
                    let auth =
                        head.lines().find(|l| l.to_ascii_lowercase().starts_with("authorization:")).unwrap_or("none");
                    ("500 Internal Server Error", format!("{{\"seen\": \"{auth}\"}}"))
                }
            }
        };
        let answer = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// Reads one request (head and a Content-Length body); `None` at end of stream.
fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut data = Vec::new();
    let mut byte = [0u8; 1];
    while !data.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => data.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&data).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).ok()?;
    Some(head)
}

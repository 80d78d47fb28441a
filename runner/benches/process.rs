//! Measurements of whole runner processes: startup and gate detection (from `--trace`), memory
//! (a child of this bench), cargo-nextest's process-per-case against the in-process pool, and the
//! stress table (repeated runs at several worker counts).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const RUNNER: &str = env!("CARGO_BIN_EXE_runner");

fn tmp(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

fn runner(args: &[&str]) -> (Option<i32>, Duration) {
    let started = Instant::now();
    let status = Command::new(RUNNER)
        .args(args)
        .env("CI", "true")
        .env_remove("GATEWAY_URL")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    (status.ok().and_then(|s| s.code()), started.elapsed())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// One line describing the machine.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| t.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or_else(|| "? GiB".into(), |kb| format!("{:.0} GiB", kb / 1024.0 / 1024.0));
    format!("{cpus} CPUs ({cpu}), {mem} RAM, Linux, release build")
}

/// Spans of a Chrome trace: (name, tid, ts µs, dur µs).
fn spans(path: &Path) -> Vec<(String, u64, u64, u64)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    value["traceEvents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["ph"] == "X")
        .map(|e| {
            let n = |k: &str| e[k].as_u64().unwrap_or(0);
            (e["name"].as_str().unwrap_or("").to_owned(), n("tid"), n("ts"), n("dur"))
        })
        .collect()
}

/// 3. Process start → first case started; gate detection latency when healthy late.
pub fn startup(reps: usize) -> String {
    let trace = tmp("startup-trace.json");
    let junit = tmp("startup-junit.xml");
    let (trace_s, junit_s) = (trace.to_string_lossy().into_owned(), junit.to_string_lossy().into_owned());
    let case = "health::health_answers_200_json";
    let mut first_case = Vec::new();
    let mut detection = Vec::new();
    for _ in 0..reps {
        runner(&[case, "--exact", "--trace", &trace_s, "--junit", &junit_s]);
        if let Some((_, _, ts, _)) = spans(&trace).into_iter().find(|s| s.1 >= 1) {
            first_case.push(ts as f64 / 1e3);
        }
        runner(&[case, "--exact", "--double-fault", "unhealthy-for=1s", "--trace", &trace_s, "--junit", &junit_s]);
        let all = spans(&trace);
        let setup_end = all.iter().find(|s| s.0 == "setup").map(|s| s.3);
        let gate_end = all.iter().find(|s| s.0 == "health gate").map(|s| s.2 + s.3);
        if let (Some(setup_end), Some(gate_end)) = (setup_end, gate_end) {
            // The double counts its unhealthy second from its own start, inside setup.
            detection.push((gate_end as f64 - setup_end as f64 - 1e6) / 1e3);
        }
    }
    format!(
        "## 3. Startup\n\nProcess start (entry into the runner) → first case started, embedded double healthy: \
         **{:.1} ms** (aim ≤ 50 ms; includes starting the double and its in-memory cluster).\n\n\
         Gate detection latency, double healthy only after 1 s: **{:.0} ms** after it turned healthy (upper bound: \
         measured from the end of setup; aim ≤ 150 ms).\n\n",
        median(first_case),
        median(detection)
    )
}

/// 4. Peak RSS with 64 and 512 cases in flight, each in a fresh child process.
pub fn memory() -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    let mut text = String::from(
        "## 4. Memory\n\nPeak RSS (VmHWM) of a process running N sleeping cases at once (N workers), \
        with per-case logs and the JUnit build at the end:\n\n| cases in flight | peak RSS |\n|---|---|\n",
    );
    for n in [64usize, 512] {
        let out = Command::new(&exe).args(["--memory", &n.to_string()]).output();
        let kb: f64 = out.ok().and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok()).unwrap_or(f64::NAN);
        text.push_str(&format!("| {n} | {:.1} MB |\n", kb / 1024.0));
    }
    text.push_str("\n(aim ≤ 60 MB at 512)\n\n");
    text
}

/// 6. The same cases through cargo-nextest (one process per case) and through the runner's pool.
pub fn nextest_vs_runner() -> String {
    let nextest = Command::new("cargo").args(["nextest", "--version"]).output().is_ok_and(|o| o.status.success());
    if !nextest {
        return "## 6. In-process pool vs process per case\n\ncargo-nextest is not installed here: skipped.\n\n".into();
    }
    let junit = tmp("nextest-junit.xml");
    let nextest_run = || {
        let started = Instant::now();
        let ok = Command::new("cargo")
            .args(["nextest", "run", "--release", "-p", "runner", "--test", "gateway", "--no-fail-fast"])
            .env("CI", "true")
            .env("E2E_JUNIT", &junit)
            .env_remove("GATEWAY_URL")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        (ok, started.elapsed())
    };
    nextest_run(); // build and warm up
    let (nextest_ok, nextest_wall) = nextest_run();
    let (code, runner_wall) = runner(&["--junit", &junit.to_string_lossy()]);
    format!(
        "## 6. In-process pool vs process per case\n\nThe whole gateway suite on the embedded double, all CPUs: \
         cargo-nextest driving the runner's libtest-compatible CLI (one process, one double and one health gate per case) \
         **{:.2} s** (passed: {nextest_ok}), the runner's in-process pool **{:.2} s** (exit {}): ratio **{:.1}×**.\n\n",
        nextest_wall.as_secs_f64(),
        runner_wall.as_secs_f64(),
        code.unwrap_or(-1),
        nextest_wall.as_secs_f64() / runner_wall.as_secs_f64()
    )
}

/// Stress: consecutive runs of the whole suite at several worker counts.
pub fn stress(runs: usize) -> String {
    let junit = tmp("stress-junit.xml");
    let junit_s = junit.to_string_lossy().into_owned();
    let mut text = format!(
        "## Stress\n\n{runs} consecutive runs of the whole suite on the embedded double per worker count; a failed run is \
         any exit code but 0 (the port-forward setup this replaces failed 17% of runs at 12 processes).\n\n\
         | workers | runs | failed runs | infrastructure failures | median wall |\n|---|---|---|---|---|\n"
    );
    for jobs in [4usize, 8, 12, 64] {
        let mut failed = 0;
        let mut infra = 0;
        let mut walls = Vec::new();
        for _ in 0..runs {
            let (code, wall) = runner(&["-j", &jobs.to_string(), "--junit", &junit_s]);
            walls.push(wall.as_secs_f64());
            failed += usize::from(code != Some(0));
            infra += std::fs::read_to_string(&junit).unwrap_or_default().matches("type=\"infrastructure\"").count();
        }
        text.push_str(&format!("| {jobs} | {runs} | {failed} | {infra} | {:.2} s |\n", median(walls)));
    }
    text.push('\n');
    text
}

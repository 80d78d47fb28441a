//! Failure artifacts: `ci/collect-artifacts.sh` against stub `kubectl` and `kind` writes the
//! expected files, cut in size, cuts a hanging command at its timeout and never fails;
//! `ci/test-e2e-gateway.sh` and `ci/in-cluster.sh` call it when the run fails and keep its exit
//! status (the in-cluster run also with the runner Job's pods).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{Stubs, wait_with_deadline};

/// Bytes each artifact may hold in these tests.
const MAX_BYTES: usize = 2048;

/// A kubectl that records its arguments, floods `logs`, has no previous container and answers
/// everything else with one line.
fn talking_kubectl(calls: &Path) -> String {
    format!(
        r#"echo "$*" >> '{calls}'
case "$*" in
  *--previous*) echo 'previous terminated container "gateway" not found' >&2; exit 1 ;;
  *" logs "*) for i in $(seq 1 2000); do echo "gateway log line $i"; done ;;
  *) echo "kubectl answered: $*" ;;
esac"#,
        calls = calls.display()
    )
}

/// A kind whose `export logs DIR` writes a node log bigger than the cap.
const EXPORTING_KIND: &str = r#"if [ "$1 $2" = "export logs" ]; then
  mkdir -p "$3/gateway-e2e-control-plane"
  head -c 100000 /dev/zero | tr '\0' 'k' > "$3/gateway-e2e-control-plane/kubelet.log"
fi"#;

/// `ci/collect-artifacts.sh` with the stubs first on PATH, writing into `out`.
fn collect(stubs: &Stubs, out: &Path, timeout: &str) -> Command {
    let mut cmd = stubs.bash("ci/collect-artifacts.sh");
    cmd.env("ARTIFACTS_DIR", out)
        .env("ARTIFACT_TIMEOUT", timeout)
        .env("ARTIFACT_MAX_BYTES", MAX_BYTES.to_string())
        .env("TRACE", stubs.path().join("trace.json"))
        .env("KUBECONFIG_PATH", stubs.path().join("kubeconfig"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn read_artifact(out: &Path, name: &str) -> String {
    std::fs::read_to_string(out.join(name)).unwrap_or_else(|e| panic!("artifact {name}: {e}"))
}

#[test]
fn collect_artifacts_writes_logs_events_rrs_kind_logs_and_trace_each_cut_in_size() {
    let stubs = Stubs::new();
    let calls = stubs.path().join("kubectl.calls");
    stubs.add("kubectl", &talking_kubectl(&calls));
    stubs.add("kind", EXPORTING_KIND);
    std::fs::write(stubs.path().join("trace.json"), "{\"traceEvents\":[]}").unwrap_or_else(|e| panic!("{e}"));
    let out = stubs.path().join("artifacts");

    let summary = stubs.path().join("summary.md");
    let mut cmd = collect(&stubs, &out, "20s");
    let child =
        cmd.env("GITHUB_STEP_SUMMARY", &summary).spawn().unwrap_or_else(|e| panic!("collect-artifacts.sh: {e}"));
    let output = wait_with_deadline(child, Duration::from_secs(60));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    for name in [
        "index.txt",
        "gateway-pods.txt",
        "gateway-describe.txt",
        "gateway.log",
        "gateway-previous.log",
        "datastorage.log",
        "datastorage-describe.txt",
        "events.txt",
        "remediationrequests.yaml",
        "trace.json",
        "kind/gateway-e2e-control-plane/kubelet.log",
    ] {
        let size = std::fs::metadata(out.join(name)).map(|m| m.len()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(size <= MAX_BYTES as u64, "{name} is {size} bytes, over the cap");
    }
    assert!(read_artifact(&out, "gateway.log").starts_with("gateway log line 1\n"));
    assert!(read_artifact(&out, "gateway-previous.log").contains("not found"));
    assert!(read_artifact(&out, "datastorage.log").starts_with("gateway log line 1\n"), "the stub floods every log");
    assert_eq!(read_artifact(&out, "trace.json"), "{\"traceEvents\":[]}");
    let index = read_artifact(&out, "index.txt");
    assert!(index.contains("gateway.log") && index.contains("cut at 2048 bytes"), "{index}");
    assert!(index.contains("exit 1"), "the missing previous container is recorded: {index}");
    let summary = std::fs::read_to_string(&summary).unwrap_or_default();
    assert!(summary.contains(&format!("**Failure artifacts**: `{}`", out.display())), "{summary}");

    let calls = std::fs::read_to_string(&calls).unwrap_or_else(|e| panic!("kubectl was not called: {e}"));
    for expected in [
        "get events -A",
        "get remediationrequests -n kubernaut-system -o yaml",
        "-n kubernaut-system logs -l app.kubernetes.io/name=gateway",
        "--previous",
        "-n kubernaut-system logs -l app.kubernetes.io/name=data-storage",
        "-n kubernaut-system describe pods -l app.kubernetes.io/name=data-storage",
    ] {
        assert!(calls.contains(expected), "kubectl {expected} missing from:\n{calls}");
    }
}

#[test]
fn collect_artifacts_cuts_a_hanging_command_at_its_timeout_and_never_fails() {
    let stubs = Stubs::new();
    stubs.add("kubectl", "sleep 300");
    stubs.add("kind", "echo 'kind: no nodes' >&2; exit 3");
    let out = stubs.path().join("artifacts");

    let child = collect(&stubs, &out, "1s").spawn().unwrap_or_else(|e| panic!("collect-artifacts.sh: {e}"));
    let output = wait_with_deadline(child, Duration::from_secs(90));
    assert!(output.status.success(), "must never fail: {}", String::from_utf8_lossy(&output.stderr));
    let kubectl_calls = std::fs::read_to_string(super::root().join("ci/collect-artifacts.sh"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("capture ") && l.contains(" kubectl "))
        .count();
    assert!(kubectl_calls >= 8, "{kubectl_calls}");
    // Every kubectl call was cut at its timeout (a hung one would hit the 90s deadline above).
    let index = read_artifact(&out, "index.txt");
    assert_eq!(index.matches("timed out after 1s").count(), kubectl_calls, "{index}");
    assert!(index.contains("exit 3") && index.contains("no trace"), "{index}");
}

/// Runs ci/test-e2e-gateway.sh with a stub `cargo` exiting `status` and DATASTORAGE_HOST_URL set
/// to `datastorage` (`None`: unset); returns (exit code, cargo's arguments, whether artifacts were
/// collected, the artifacts directory).
fn e2e_script_with_runner_exit(status: i32, datastorage: Option<&str>) -> (Option<i32>, String, bool, PathBuf) {
    let stubs = Stubs::new();
    let calls = stubs.path().join("cargo.calls");
    stubs.add("cargo", &format!("echo \"$*\" >> '{}'; exit {status}", calls.display()));
    stubs.add("kubectl", "echo ok");
    stubs.add("kind", "exit 0");
    let out = stubs.path().join("artifacts");
    let mut cmd = stubs.bash("ci/test-e2e-gateway.sh");
    match datastorage {
        Some(url) => cmd.env("DATASTORAGE_HOST_URL", url),
        None => cmd.env_remove("DATASTORAGE_HOST_URL"),
    };
    let child = cmd
        .arg("--nocapture")
        .env("CASE", "dedup::repeat_alert_is_duplicate")
        .env("JOBS", "2")
        .env("JUNIT", stubs.path().join("junit.xml"))
        .env("TRACE", stubs.path().join("trace.json"))
        .env("ARTIFACTS_DIR", &out)
        .env("ARTIFACT_TIMEOUT", "5s")
        .env("KUBECONFIG_PATH", stubs.path().join("kubeconfig"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("test-e2e-gateway.sh: {e}"));
    let output = wait_with_deadline(child, Duration::from_secs(60));
    let cargo = std::fs::read_to_string(&calls).unwrap_or_default();
    (output.status.code(), cargo, out.join("index.txt").is_file(), out)
}

#[test]
fn e2e_script_collects_artifacts_only_when_the_runner_fails_and_keeps_its_status() {
    let (code, cargo, collected, out) = e2e_script_with_runner_exit(1, None);
    assert_eq!(code, Some(1), "the runner's status is the script's");
    assert!(collected, "a failed run collects artifacts");
    for arg in [
        "--gateway-url http://localhost:8080",
        "--datastorage-url http://localhost:18091",
        "--trace ",
        &format!("--artifacts-dir {}", out.display()),
        "--jobs 2",
        "dedup::repeat_alert_is_duplicate --nocapture",
    ] {
        assert!(cargo.contains(arg), "{arg} missing from: {cargo}");
    }

    let (code, cargo, collected, _) = e2e_script_with_runner_exit(0, Some(""));
    assert_eq!(code, Some(0));
    assert!(!collected, "a passing run collects nothing");
    assert!(!cargo.contains("--datastorage-url"), "set empty, the runner's probe decides: {cargo}");
}

/// A kubectl for ci/in-cluster.sh whose Job ends Complete (`passed`) or Failed; it records its
/// arguments. The wait for the condition that does not come blocks until the script kills it.
fn job_kubectl(calls: &Path, passed: bool) -> String {
    let (complete, failed) = if passed { ("exit 0", "exec sleep 60") } else { ("exec sleep 60", "exit 0") };
    let verdict = if passed { "True" } else { "" };
    format!(
        r#"echo "$*" >> '{calls}'
case "$*" in
  "apply -f -") cat >/dev/null ;;
  *condition=complete*) {complete} ;;
  *condition=failed*) {failed} ;;
  *" get job "*) printf '{verdict}' ;;
  *) echo "kubectl answered: $*" ;;
esac"#,
        calls = calls.display()
    )
}

/// Runs ci/in-cluster.sh on stubs; returns (exit code, kubectl's arguments, artifacts dir).
fn in_cluster_run(passed: bool) -> (Option<i32>, String, tempfile::TempDir) {
    let stubs = Stubs::new();
    let calls = stubs.path().join("kubectl.calls");
    stubs.add("kubectl", &job_kubectl(&calls, passed));
    stubs.add("kind", r#"case "$1 $2" in "get clusters") echo gateway-e2e ;; "get nodes") echo node-1 ;; esac"#);
    // `docker cp NODE:DIR/. DEST/` copies one shard report; `cargo` (the merge) succeeds.
    stubs.add("docker", r#"if [ "$1" = cp ]; then echo '<testsuites/>' > "$3/junit-0.xml"; fi"#);
    stubs.add("cargo", "exit 0");
    let keep = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let child = stubs
        .bash("ci/in-cluster.sh")
        .env("SHARDS", "2")
        .env("CONTAINER_ENGINE", "docker")
        .env("REPORTS_DIR", stubs.path().join("reports"))
        .env("JUNIT", stubs.path().join("junit.xml"))
        .env("TRACE", stubs.path().join("trace.json"))
        .env("ARTIFACTS_DIR", keep.path().join("artifacts"))
        .env("ARTIFACT_TIMEOUT", "5s")
        .env("KUBECONFIG_PATH", stubs.path().join("kubeconfig"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("in-cluster.sh: {e}"));
    let output = wait_with_deadline(child, Duration::from_secs(60));
    let kubectl = std::fs::read_to_string(&calls).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(kubectl.contains("apply -f -"), "the Job was applied: {kubectl}\n{stderr}");
    (output.status.code(), kubectl, keep)
}

#[test]
fn in_cluster_failure_collects_artifacts_with_the_runner_jobs_pods() {
    let (code, kubectl, keep) = in_cluster_run(false);
    assert_eq!(code, Some(1), "a Failed Job fails the script");
    let out = keep.path().join("artifacts");
    assert!(out.join("index.txt").is_file(), "a failed in-cluster run collects artifacts");
    assert!(read_artifact(&out, "runner-job.log").contains("kubectl answered"), "the Job pods' logs");
    assert!(kubectl.contains("describe pods -l app.kubernetes.io/name=gateway-e2e-runner"), "{kubectl}");

    let (code, _, keep) = in_cluster_run(true);
    assert_eq!(code, Some(0), "a Complete Job with merged reports passes");
    assert!(!keep.path().join("artifacts").exists(), "a passing run collects nothing");
}

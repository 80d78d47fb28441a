//! The Kind/CI pipeline, checked by what can run here (no Docker, no Kind): the make targets and
//! their dry runs, the ci/ scripts (`bash -n`, shellcheck) and the runner Job manifest. The
//! workflow, its linters, `.ci/run`, the failure-artifacts scripts, the runner's GitHub output
//! and the nextest config have their own modules under `pipeline/`.

mod support;

#[path = "pipeline/artifacts.rs"]
mod artifacts;
#[path = "pipeline/ci_run.rs"]
mod ci_run;
#[path = "pipeline/github.rs"]
mod github;
#[path = "pipeline/linters.rs"]
mod linters;
#[path = "pipeline/nextest.rs"]
mod nextest;
#[path = "pipeline/workflow.rs"]
mod workflow;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Service;
use serde::Deserialize;
use serde_yaml_ng::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn make_targets() -> Vec<String> {
    read("Makefile")
        .lines()
        .filter(|l| !l.starts_with(['\t', '#', ' ', '.']) && l.contains(':') && !l.contains(":="))
        .filter_map(|l| l.split(':').next())
        .filter(|t| !t.contains('=') && !t.contains('$'))
        .map(|t| t.trim().to_owned())
        .collect()
}

fn ci_scripts() -> Vec<PathBuf> {
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(root().join("ci"))
        .unwrap_or_else(|e| panic!("ci/: {e}"))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sh"))
        .collect();
    scripts.push(root().join(".ci/run"));
    scripts
}

/// A temp dir of executable stand-ins for outside tools, to put first on PATH.
struct Stubs {
    dir: tempfile::TempDir,
}

impl Stubs {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}")) }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `name` as a shell script with `body` after the shebang.
    fn add(&self, name: &str, body: &str) {
        let file = self.path().join(name);
        std::fs::write(&file, format!("#!/usr/bin/env bash\n{body}\n")).unwrap_or_else(|e| panic!("{name}: {e}"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap_or_else(|e| panic!("{e}"));
    }

    /// PATH with the stubs first.
    fn search_path(&self) -> String {
        format!("{}:{}", self.path().display(), std::env::var("PATH").unwrap_or_default())
    }

    /// A `bash SCRIPT` command from the repository root with the stubs first on PATH and none of
    /// GitHub's files (these tests also run inside GitHub Actions: nothing may reach the job's own).
    fn bash(&self, script: &str) -> Command {
        let mut cmd = Command::new("bash");
        cmd.arg(root().join(script)).current_dir(root()).env("PATH", self.search_path());
        for variable in ["GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ENV", "RUNNER_JOB_SELECTOR"]
        {
            cmd.env_remove(variable);
        }
        cmd
    }
}

/// Waits for `child` with a deadline (polling), killing it when the deadline passes.
fn wait_with_deadline(mut child: Child, deadline: Duration) -> Output {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > deadline => {
                let _ = child.kill();
                panic!("still running after {deadline:?}");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("wait: {e}"),
        }
    }
    child.wait_with_output().unwrap_or_else(|e| panic!("output: {e}"))
}

fn make_dry_run(args: &[&str]) -> String {
    let out = Command::new("make")
        .args(["-n", "--no-print-directory"])
        .env_remove("MAKEFLAGS")
        .env_remove("MAKELEVEL")
        .args(args)
        .current_dir(root())
        .output();
    let out = out.unwrap_or_else(|e| panic!("make: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "make -n {args:?}: {text}{}", String::from_utf8_lossy(&out.stderr));
    text
}

#[test]
fn make_dry_run_shows_kind_config_and_nodeport_url_and_nothing_port_forwards() {
    let text = make_dry_run(&["test-e2e-gateway"]);
    assert!(text.contains("KIND_CONFIG=fixtures/data/kind/kind-gateway-config.yaml"), "{text}");
    assert!(text.contains("GATEWAY_URL=http://localhost:8080"), "{text}");
    for verb in ["kind-up.sh", "deploy.sh", "test-e2e-gateway.sh"] {
        assert!(text.contains(verb), "{verb} missing from:\n{text}");
    }
    for target in
        ["kind-up", "image", "deploy", "test-e2e-gateway", "e2e", "kind-down", "bench", "test-e2e-gateway-in-cluster"]
    {
        assert!(make_targets().iter().any(|t| t == target), "Makefile lacks {target}");
    }
    let forbidden = ["kubectl", "port-forward"].join(" ");
    let mut stack = vec![root()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !matches!(name.as_str(), "target" | ".git") {
                    stack.push(path);
                }
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                assert!(!text.contains(&forbidden), "{} uses {forbidden}", path.display());
            }
        }
    }
}

#[test]
fn make_e2e_runs_one_case_on_the_current_cluster_without_setting_it_up() {
    let text = make_dry_run(&["e2e", "CASE=dedup::repeat", "JOBS=3", "TOKEN_FILE=sa.token", "ARGS=--exact"]);
    assert!(text.contains("bash ci/test-e2e-gateway.sh --exact"), "{text}");
    for passed in ["CASE='dedup::repeat'", "JOBS=3", "TOKEN_FILE=sa.token", "GATEWAY_URL=http://localhost:8080"] {
        assert!(text.contains(passed), "{passed} not passed through:\n{text}");
    }
    for setup in ["kind-up.sh", "image.sh", "deploy.sh", "kind create", "docker"] {
        assert!(!text.contains(setup), "make e2e must not set the cluster up ({setup}):\n{text}");
    }
    assert_eq!(text.lines().filter(|l| !l.trim().is_empty()).count(), 1, "one command:\n{text}");
}

#[test]
fn ci_scripts_pass_bash_n_and_shellcheck() {
    let scripts = ci_scripts();
    assert!(scripts.len() >= 8, "{scripts:?}");
    for script in &scripts {
        let status = Command::new("bash").arg("-n").arg(script).status();
        assert!(status.is_ok_and(|s| s.success()), "bash -n {}", script.display());
    }
    if !support::tool_or_skip("shellcheck", "apt-get install shellcheck") {
        return;
    }
    let out = Command::new("shellcheck").arg("-x").args(&scripts).current_dir(root()).output();
    let out = out.unwrap_or_else(|e| panic!("shellcheck: {e}"));
    assert!(out.status.success(), "shellcheck:\n{}", String::from_utf8_lossy(&out.stdout));
}

/// Renders the Job manifest the way ci/in-cluster.sh does.
fn rendered_runner_job(shards: u32) -> Vec<Value> {
    let text = read("fixtures/data/manifests/runner-job.yaml")
        .replace("${RUNNER_IMAGE}", "gateway-e2e-runner:e2e")
        .replace("${SHARDS}", &shards.to_string());
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("runner-job.yaml: {e}")))
        .collect()
}

#[test]
fn runner_job_is_an_indexed_job_against_the_gateway_service() {
    let docs = rendered_runner_job(4);
    let job_doc = docs.iter().find(|d| d["kind"] == "Job").unwrap_or_else(|| panic!("no Job in runner-job.yaml"));
    assert_eq!(job_doc["apiVersion"], "batch/v1");
    let job: Job = serde_yaml_ng::from_value(job_doc.clone()).unwrap_or_else(|e| panic!("not a batch/v1 Job: {e}"));
    let spec = job.spec.unwrap_or_default();
    assert_eq!(spec.completion_mode.as_deref(), Some("Indexed"));
    assert_eq!((spec.completions, spec.parallelism), (Some(4), Some(4)));
    assert_eq!(
        (spec.backoff_limit_per_index, spec.max_failed_indexes),
        (Some(0), Some(4)),
        "a failing shard must not stop the other shards"
    );
    let pod = spec.template.spec.unwrap_or_default();
    let runner = pod.containers.iter().find(|c| c.name == "runner").unwrap_or_else(|| panic!("no runner container"));
    let env = runner.env.clone().unwrap_or_default();
    assert!(env.iter().any(|e| e.name == "E2E_SHARDS" && e.value.as_deref() == Some("4")), "{env:?}");
    let args = runner.args.clone().unwrap_or_default().join(" ");
    assert!(args.contains("--kube in-cluster"), "{args}");
    assert!(args.contains("$(JOB_COMPLETION_INDEX)"), "each shard writes its own report: {args}");
    // The shards share one gateway; the throttle case would fill it under the others' feet.
    assert!(args.contains("--label-filter !throttle && !timing"), "{args}");

    let service: Service = serde_yaml_ng::from_str(&read("fixtures/data/manifests/04-service.yaml"))
        .unwrap_or_else(|e| panic!("04-service.yaml: {e}"));
    let name = service.metadata.name.unwrap_or_default();
    let namespace = service.metadata.namespace.unwrap_or_default();
    let port = service.spec.and_then(|s| s.ports).and_then(|p| p.first().map(|p| p.port)).unwrap_or_default();
    let url = format!("http://{name}.{namespace}.svc.cluster.local:{port}");
    assert!(args.contains(&url), "the Job targets the Service's DNS name {url}: {args}");
    assert_eq!(job.metadata.namespace.as_deref(), Some(namespace.as_str()));
}

#[test]
fn runner_job_may_make_every_object_the_cases_and_the_account_need() {
    let docs = rendered_runner_job(2);
    let role = docs.iter().find(|d| d["kind"] == "ClusterRole").unwrap_or_else(|| panic!("no ClusterRole"));
    let rules = role["rules"].as_sequence().cloned().unwrap_or_default();
    let allows = |group: &str, resource: &str, verb: &str| {
        rules.iter().any(|r| {
            let has = |key: &str, want: &str| {
                r[key]
                    .as_sequence()
                    .is_some_and(|v| v.iter().any(|x| x.as_str() == Some(want) || x.as_str() == Some("*")))
            };
            has("apiGroups", group) && has("resources", resource) && has("verbs", verb)
        })
    };
    for (group, resource) in [("", "namespaces"), ("", "pods"), ("", "nodes"), ("", "serviceaccounts")] {
        for verb in ["create", "get", "delete"] {
            assert!(allows(group, resource, verb), "{verb} {resource}");
        }
    }
    for resource in ["deployments", "replicasets", "statefulsets", "daemonsets"] {
        assert!(allows("apps", resource, "create") && allows("apps", resource, "list"), "{resource}");
    }
    assert!(allows("", "serviceaccounts/token", "create"), "minting the suite's token");
    assert!(allows("", "services", "create"), "it grants create on services/gateway-service, so it must hold it");
    assert!(allows("rbac.authorization.k8s.io", "clusterrolebindings", "create"));
    assert!(allows("kubernaut.ai", "remediationrequests/status", "patch"));
    assert!(allows("", "pods/log", "get"), "the structured-logging case reads the gateway pod's log");
    let binding = docs.iter().find(|d| d["kind"] == "ClusterRoleBinding").unwrap_or_else(|| panic!("no binding"));
    assert_eq!(binding["subjects"][0]["name"], "gateway-e2e-runner");
}

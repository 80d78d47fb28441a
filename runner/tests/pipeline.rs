//! The Kind/CI pipeline, checked by what can run here (no Docker, no Kind): the workflow parses
//! and calls only make targets and scripts that exist, `make -n` shows the NodePort URL and the
//! Kind config, the ci/ scripts pass `bash -n` and shellcheck, and the runner Job manifest is an
//! Indexed `batch/v1` Job aimed at the gateway Service.

use std::path::{Path, PathBuf};
use std::process::Command;

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

#[test]
fn workflow_parses_and_calls_only_existing_targets_and_scripts() {
    let workflow: Value =
        serde_yaml_ng::from_str(&read(".github/workflows/e2e-gateway.yml")).unwrap_or_else(|e| panic!("workflow: {e}"));
    let jobs = workflow.get("jobs").and_then(Value::as_mapping).unwrap_or_else(|| panic!("no jobs"));
    for job in ["test", "e2e", "report"] {
        assert!(jobs.contains_key(job), "workflow has no job {job}");
    }
    let matrix = &workflow["jobs"]["e2e"]["strategy"]["matrix"]["shard"];
    assert!(matrix.as_sequence().is_some_and(|s| s.len() >= 2), "e2e is a matrix of shards: {matrix:?}");
    let targets = make_targets();
    let mut runs = Vec::new();
    for (_, job) in jobs {
        for step in job["steps"].as_sequence().into_iter().flatten() {
            if let Some(run) = step.get("run").and_then(Value::as_str) {
                runs.push(run.to_owned());
            }
        }
    }
    assert!(runs.iter().any(|r| r.contains("make test")), "{runs:?}");
    assert!(runs.iter().any(|r| r.contains("--partition") || r.contains("PARTITION=slice:")), "{runs:?}");
    for run in &runs {
        let words: Vec<&str> = run.split_whitespace().collect();
        for pair in words.windows(2) {
            if pair[0] == "make" {
                assert!(
                    targets.iter().any(|t| t == pair[1]),
                    "workflow calls make {} which the Makefile lacks",
                    pair[1]
                );
            }
            if pair[0] == "bash" && pair[1].starts_with("ci/") {
                assert!(root().join(pair[1]).is_file(), "workflow calls missing {}", pair[1]);
            }
        }
    }
}

#[test]
fn make_dry_run_shows_kind_config_and_nodeport_url_and_nothing_port_forwards() {
    let out = Command::new("make").arg("-n").arg("test-e2e-gateway").current_dir(root()).output();
    let out = out.unwrap_or_else(|e| panic!("make: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("KIND_CONFIG=fixtures/data/kind/kind-gateway-config.yaml"), "{text}");
    assert!(text.contains("GATEWAY_URL=http://localhost:8080"), "{text}");
    for verb in ["kind-up.sh", "deploy.sh", "test-e2e-gateway.sh"] {
        assert!(text.contains(verb), "{verb} missing from:\n{text}");
    }
    for target in
        ["kind-up", "image", "deploy", "test-e2e-gateway", "kind-down", "bench", "test-e2e-gateway-in-cluster"]
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
fn ci_scripts_pass_bash_n_and_shellcheck() {
    let scripts = ci_scripts();
    assert!(scripts.len() >= 6, "{scripts:?}");
    for script in &scripts {
        let status = Command::new("bash").arg("-n").arg(script).status();
        assert!(status.is_ok_and(|s| s.success()), "bash -n {}", script.display());
    }
    let out = Command::new("shellcheck").arg("-x").args(&scripts).current_dir(root()).output();
    let out = out.unwrap_or_else(|e| panic!("shellcheck is needed (apt-get install shellcheck): {e}"));
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

    let service: Service = serde_yaml_ng::from_str(&read("fixtures/data/manifests/04-service.yaml"))
        .unwrap_or_else(|e| panic!("04-service.yaml: {e}"));
    let name = service.metadata.name.unwrap_or_default();
    let namespace = service.metadata.namespace.unwrap_or_default();
    let port = service.spec.and_then(|s| s.ports).and_then(|p| p.first().map(|p| p.port)).unwrap_or_default();
    let url = format!("http://{name}.{namespace}.svc.cluster.local:{port}");
    assert!(args.contains(&url), "the Job targets the Service's DNS name {url}: {args}");
    assert_eq!(job.metadata.namespace.as_deref(), Some(namespace.as_str()));
}

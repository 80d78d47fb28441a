//! The runner as libtest-speaking tools call it: `--version`, `--format terse` and `pretty` on a
//! run, formats it does not write refused with exit 2, and `RUST_TEST_THREADS` as the worker count.

mod support;

use support::*;

#[tokio::test]
async fn version_terse_pretty_and_unsupported_formats() {
    let output = run(&["--version"]).await;
    let (stdout, _) = texts(&output);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout.trim(), format!("runner {}", env!("CARGO_PKG_VERSION")));
    let (_dir, junit) = junit_path();
    let junit = junit.to_string_lossy().into_owned();
    let garbage = fake_gateway(Behaviour::Garbage);
    let failing = ["validation::", "--gateway-url", &garbage, "--kube", "none", "--junit", &junit];
    let terse = run(&[&failing[..], &["--format", "terse"]].concat()).await;
    let (_, stderr) = texts(&terse);
    assert_eq!(terse.status.code(), Some(1), "{stderr}");
    let terse_line = |l: &str| l.contains('F') && l.chars().all(|c| matches!(c, '.' | 'F' | 'i'));
    assert!(stderr.lines().any(terse_line), "no terse line: {stderr}");
    assert!(!stderr.contains("] FAIL "), "terse prints no case lines: {stderr}");
    let pretty = run(&[&failing[..], &["--format", "pretty"]].concat()).await;
    let (_, stderr) = texts(&pretty);
    assert_eq!(pretty.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("] FAIL "), "{stderr}");
    for format in ["junit", "xml"] {
        let refused = run(&["--format", format, "--junit", &junit]).await;
        assert_eq!(refused.status.code(), Some(2), "--format {format}: {:?}", texts(&refused));
    }
}

#[tokio::test]
async fn rust_test_threads_sets_the_workers() {
    let mut cmd = command(&["--dry-run"]);
    cmd.env("RUST_TEST_THREADS", "3");
    let output = tokio::time::timeout(DEADLINE, cmd.output()).await.unwrap_or_else(|_| panic!("runner hung"));
    let output = output.unwrap_or_else(|e| panic!("{e}"));
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("parallel on 3 workers"), "{stdout}");
}

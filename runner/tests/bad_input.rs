//! Bad input refused by the built binary before anything runs: every numeric limit, negative
//! value, zero duration, conflicting pair, URL with credentials or a fragment, report path that is
//! not a plain file (directory, device, FIFO, trailing `/`, the other report), FIFO and broken
//! token files. Each exits 2 with the flag named, never panics and never hangs; and absurd
//! recorded times neither crash a plan nor `merge-junit`.

mod support;

use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use support::*;

/// Runs the runner with `args` and `env`; asserts exit 2 without a panic and returns stderr.
async fn refused(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = command(args);
    cmd.envs(env.iter().copied());
    let output = tokio::time::timeout(DEADLINE, cmd.output()).await;
    let output = output.unwrap_or_else(|_| panic!("runner hung on {args:?}")).unwrap_or_else(|e| panic!("{e}"));
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    stderr
}

/// Asserts each of `table`'s argument lists exits 2 with every listed word in its message.
async fn all_refused(table: &[(Vec<&str>, &[&str])]) {
    for (args, words) in table {
        let stderr = refused(args, &[]).await;
        for word in *words {
            assert!(stderr.contains(word), "{args:?}: `{word}` missing from: {stderr}");
        }
    }
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
}

#[tokio::test]
async fn each_numeric_limit_negative_value_and_zero_duration_names_its_flag() {
    let deep_not = format!("{}a", "!".repeat(100_000));
    let deep_parens = format!("{}a{}", "(".repeat(65), ")".repeat(65));
    let table: Vec<(Vec<&str>, &[&str])> = vec![
        (vec!["--health-timeout", "10000000000000000000"], &["--health-timeout", "7-day"]),
        (vec!["--timeout", "200h"], &["--timeout", "7-day"]),
        (vec!["--suite-timeout", "1e400"], &["--suite-timeout"]),
        (vec!["--timeout", "0"], &["--timeout", "zero"]),
        (vec!["--suite-timeout", "0s"], &["--suite-timeout", "zero"]),
        (vec!["--health-timeout", "PT0S"], &["--health-timeout", "zero"]),
        (vec!["--timeout", "-5"], &["--timeout", "negative"]),
        (vec!["--health-timeout", "-1s"], &["--health-timeout", "negative"]),
        (vec!["-j", "18446744073709551615"], &["-j/--jobs", "1 to 1024"]),
        (vec!["-j", "99999999999"], &["-j/--jobs", "1 to 1024"]),
        (vec!["-j", "1025"], &["-j/--jobs", "1 to 1024"]),
        (vec!["-j", "-1"], &["-j/--jobs"]),
        (vec!["--test-threads", "5000"], &["--test-threads", "1 to 1024"]),
        (vec!["--test-threads", "-1"], &["--test-threads"]),
        (vec!["--retries", "-1"], &["--retries"]),
        (vec!["--retries", "99999999999"], &["--retries"]),
        (vec!["--flake-attempts", "-1"], &["--flake-attempts"]),
        (vec!["--flake-attempts", "0"], &["--flake-attempts"]),
        (vec!["--repeat", "-1"], &["--repeat"]),
        (vec!["--max-fail", "-1"], &["--max-fail"]),
        (vec!["--max-fail", "0"], &["--max-fail"]),
        (vec!["--seed", "-1"], &["--seed"]),
        (vec!["--partition", "duration:1/4294967295"], &["--partition", "10000"]),
        (vec!["--partition", "slice:1/0"], &["--partition"]),
        (vec!["--partition", "slice:-1/2"], &["--partition"]),
        (vec!["--label-filter", &deep_not], &["--label-filter"]),
        (vec!["--label-filter", &deep_parens], &["--label-filter", "64"]),
        (vec!["--double-fault", "fail-fraction=2"], &["--double-fault", "fail-fraction=2"]),
        (vec!["--double-fault", "stop-after=-1s"], &["--double-fault", "negative"]),
        (vec!["--double-fault", "close-after=-1"], &["--double-fault", "close-after"]),
    ];
    all_refused(&table).await;
    let from_env: [&[(&str, &str)]; 5] = [
        &[("E2E_JOBS", "100000")],
        &[("RUST_TEST_THREADS", "0")],
        &[("E2E_PARTITION", "hash:3/2")],
        &[("E2E_SHARDS", "99999"), ("JOB_COMPLETION_INDEX", "0")],
        &[("E2E_SHARDS", "2"), ("JOB_COMPLETION_INDEX", "-1")],
    ];
    for env in from_env {
        let stderr = refused(&[], env).await;
        assert!(env.iter().all(|(name, _)| stderr.contains(name)), "{env:?}: {stderr}");
    }
}

#[tokio::test]
async fn conflicting_flags_are_refused_with_both_named() {
    let table: Vec<(Vec<&str>, &[&str])> = vec![
        (vec!["--list", "--dry-run"], &["--list", "--dry-run"]),
        (vec!["--shuffle", "--order", "name"], &["--shuffle", "--order"]),
        (vec!["--seed", "1", "--order", "name"], &["--seed", "--order"]),
        (vec!["--fail-fast", "--max-fail", "3"], &["--fail-fast", "--max-fail"]),
        (vec!["--ignored", "--include-ignored"], &["--ignored", "--include-ignored"]),
        (vec!["--retries", "1", "--flake-attempts", "2"], &["--retries", "--flake-attempts"]),
        (vec!["--repeat", "1", "--until-it-fails"], &["--repeat", "--until-it-fails"]),
        (vec!["--partition", "duration:1/2"], &["--partition", "--timings"]),
        (vec!["--gateway-url", "http://127.0.0.1:1", "--double-fault", "seed=1"], &["--double-fault", "--gateway-url"]),
        (vec!["--datastorage-url", "http://127.0.0.1:1"], &["--datastorage-url", "--gateway-url"]),
        (vec!["--format", "json", "-Z", "unstable-options", "--list"], &["--format json", "--list"]),
    ];
    all_refused(&table).await;
}

#[tokio::test]
async fn urls_with_credentials_a_query_or_a_fragment_are_refused_without_the_password() {
    let table: Vec<(Vec<&str>, &[&str])> = vec![
        (vec!["--gateway-url", "http://user:s3cr3t-pw@127.0.0.1:1"], &["--gateway-url", "user name or password"]),
        (vec!["--health-url", "http://u:s3cr3t-pw@127.0.0.1:1/readyz"], &["--health-url", "***@127.0.0.1"]),
        (vec!["--gateway-url", "http://127.0.0.1:1/#frag"], &["--gateway-url", "#fragment"]),
        (vec!["--gateway-url", "http://127.0.0.1:1/?q=1"], &["--gateway-url", "?query"]),
        (vec!["--gateway-url", "http://127.0.0.1:1", "--metrics-url", "http://127.0.0.1:2/m#x"], &["--metrics-url"]),
    ];
    for (args, words) in &table {
        let stderr = refused(args, &[]).await;
        assert!(!stderr.contains("s3cr3t-pw"), "the password is repeated: {stderr}");
        assert!(words.iter().all(|w| stderr.contains(w)), "{args:?}: {stderr}");
    }
    let stderr = refused(&[], &[("GATEWAY_URL", "http://me:s3cr3t-pw@127.0.0.1:1")]).await;
    assert!(stderr.contains("GATEWAY_URL (--gateway-url)") && !stderr.contains("s3cr3t-pw"), "{stderr}");
}

#[tokio::test]
async fn report_paths_must_be_plain_files_and_differ() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let (fifo, here) = (arg(&fifo), arg(dir.path()));
    let junit = arg(&dir.path().join("junit.xml"));
    let slash = format!("{here}/new-dir/");
    let table: Vec<(Vec<&str>, &[&str])> = vec![
        (vec!["--junit", &here], &["--junit", "directory"]),
        (vec!["--junit", &slash], &["--junit", "ends in `/`"]),
        (vec!["--junit", "/dev/null"], &["--junit", "not a regular file"]),
        (vec!["--junit", &fifo], &["--junit", "not a regular file"]),
        (vec!["--junit", "/proc/no-such-dir/junit.xml"], &["--junit", "cannot create"]),
        (vec!["--junit", &junit, "--trace", &here], &["--trace", "directory"]),
        (vec!["--junit", &junit, "--trace", &fifo], &["--trace", "not a regular file"]),
        (vec!["--junit", &junit, "--trace", "/dev/null"], &["--trace", "not a regular file"]),
        (vec!["--junit", &junit, "--trace", "/proc/no-such-dir/trace.json"], &["--trace", "cannot create"]),
        (vec!["--junit", &junit, "--trace", &junit], &["--trace", "--junit", "overwrite"]),
    ];
    all_refused(&table).await;
    let null = std::fs::metadata("/dev/null").map(|m| m.file_type().is_char_device());
    assert!(null.is_ok_and(|c| c), "/dev/null was replaced");
    let still_fifo = std::fs::metadata(&fifo).map(|m| m.file_type().is_fifo());
    assert!(still_fifo.is_ok_and(|f| f), "the FIFO was replaced");
    assert!(!Path::new(&slash).exists(), "a directory was made for a path ending in `/`");
}

#[tokio::test]
async fn input_files_that_would_block_or_break_headers_are_refused() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let fifo = arg(&fifo);
    let token = dir.path().join("token");
    let out = arg(&dir.path().join("out.xml"));
    let table: Vec<(Vec<&str>, &[&str])> = vec![
        (vec!["--token-file", &fifo], &["--token-file", "not a regular file"]),
        (vec!["--timings", &fifo], &["--timings", "not a regular file"]),
        (vec!["merge-junit", &out, &fifo], &["merge-junit input", "not a regular file"]),
        (vec!["merge-junit", &fifo, &out], &["merge-junit OUT", "not a regular file"]),
    ];
    all_refused(&table).await;
    for content in ["abc\r\ndef", "abc\ndef", "abc\0def", "two words", ""] {
        std::fs::write(&token, content).unwrap_or_else(|e| panic!("{e}"));
        let stderr = refused(&["--token-file", &arg(&token)], &[]).await;
        assert!(stderr.contains("--token-file"), "{content:?}: {stderr}");
    }
}

/// A JUnit report of one suite of `seconds` holding one case `name` of `seconds` with `status`
/// (an element inside `<testcase>`, or nothing for a pass).
fn report_xml(seconds: &str, name: &str, status: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><testsuites name=\"gateway-e2e\" tests=\"1\"><testsuite name=\"gateway-e2e\" tests=\"1\" \
         time=\"{seconds}\"><testcase name=\"{name}\" classname=\"area\" time=\"{seconds}\">{status}</testcase></testsuite></testsuites>"
    )
}

#[tokio::test]
async fn absurd_recorded_times_neither_crash_a_plan_nor_a_merge() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let huge = dir.path().join("huge.xml");
    let listed = run(&["--list", "--format", "terse"]).await;
    let first = texts(&listed).0.lines().next().and_then(|l| l.strip_suffix(": test")).map(str::to_owned);
    let first = first.unwrap_or_else(|| panic!("no case listed"));
    std::fs::write(&huge, report_xml("1.8e19", &first, "")).unwrap_or_else(|e| panic!("{e}"));
    for args in [
        vec!["--timings", huge.to_str().unwrap_or_default(), "--partition", "duration:1/1", "--list"],
        vec!["--timings", huge.to_str().unwrap_or_default(), "--partition", "duration:2/3", "--dry-run"],
    ] {
        let output = run(&args).await;
        assert_eq!(output.status.code(), Some(0), "{args:?}: {}", texts(&output).1);
    }
    let other = dir.path().join("other.xml");
    std::fs::write(&other, report_xml("1e19", "x", "")).unwrap_or_else(|e| panic!("{e}"));
    let merged = dir.path().join("merged.xml");
    let output = run(&["merge-junit", &arg(&merged), &arg(&huge), &arg(&other)]).await;
    assert_eq!(output.status.code(), Some(0), "{}", texts(&output).1);
    assert_eq!(read_junit(&merged).tests, 2);
}

#[tokio::test]
async fn merge_junit_keeps_the_worst_copy_of_a_case_and_says_so() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pass = dir.path().join("pass.xml");
    let fail = dir.path().join("fail.xml");
    std::fs::write(&pass, report_xml("1", "dedup::x", "")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&fail, report_xml("1", "dedup::x", "<failure message=\"boom\"/>")).unwrap_or_else(|e| panic!("{e}"));
    let merged = dir.path().join("merged.xml");
    for inputs in [[&pass, &fail], [&fail, &pass]] {
        let output = run(&["merge-junit", &arg(&merged), &arg(inputs[0]), &arg(inputs[1])]).await;
        let (_, stderr) = texts(&output);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(stderr.contains("`dedup::x` appears in more than one input; kept its worst outcome"), "{stderr}");
        let report = read_junit(&merged);
        assert_eq!((report.tests, report.failures), (1, 1), "{inputs:?}");
    }
}

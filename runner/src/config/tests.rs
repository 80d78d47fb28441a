use clap::Parser;

use super::*;
use crate::plan::Order;

fn resolve(args: &[&str], env: &[(&str, &str)]) -> Result<RunConfig, String> {
    let mut argv = vec!["runner"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    RunConfig::resolve(cli, &lookup, false).map_err(|e| e.to_string())
}

#[test]
fn defaults_are_embedded_all_cpus_and_documented_paths() {
    let config = resolve(&[], &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.target, Target::Embedded);
    assert_eq!(config.jobs_source, JobsSource::Cpus);
    assert_eq!(config.jobs, std::thread::available_parallelism().map_or(1, usize::from));
    assert_eq!(config.case_timeout, DEFAULT_CASE_TIMEOUT);
    assert_eq!(config.health_timeout, DEFAULT_HEALTH_TIMEOUT);
    assert_eq!(config.junit, PathBuf::from(DEFAULT_JUNIT));
}

#[test]
fn flags_win_over_environment() {
    let env = [("GATEWAY_URL", "http://env:1"), ("E2E_JOBS", "3"), ("E2E_JUNIT", "/tmp/env-junit.xml")];
    let from_env = resolve(&[], &env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_env.target, Target::External("http://env:1".into()));
    assert_eq!((from_env.jobs, from_env.jobs_source), (3, JobsSource::Env));
    assert_eq!(from_env.junit, PathBuf::from("/tmp/env-junit.xml"));
    let from_flags =
        resolve(&["--gateway-url", "http://localhost:8080/", "-j", "5"], &env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_flags.target, Target::External("http://localhost:8080".into()));
    assert_eq!((from_flags.jobs, from_flags.jobs_source), (5, JobsSource::Flag));
}

#[test]
fn datastorage_url_comes_from_the_flag_or_the_environment_for_external_gateways_only() {
    let external = ["--gateway-url", "http://localhost:8080"];
    let from_env = resolve(&external, &[("E2E_DATASTORAGE_URL", "http://ds:18091/")]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_env.datastorage_url, Some(("http://ds:18091".to_owned(), "from E2E_DATASTORAGE_URL")));
    let both = [&external[..], &["--datastorage-url", "http://flag:1"]].concat();
    let from_flag = resolve(&both, &[("E2E_DATASTORAGE_URL", "http://ds:18091")]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_flag.datastorage_url, Some(("http://flag:1".to_owned(), "from --datastorage-url")));
    assert_eq!(resolve(&external, &[]).map(|c| c.datastorage_url), Ok(None));
    let embedded = resolve(&[], &[("E2E_DATASTORAGE_URL", "http://ds:1")]).err().unwrap_or_default();
    assert!(embedded.contains("applies to an external gateway"), "{embedded}");
    let bad = resolve(&[&external[..], &["--datastorage-url", "ftp://x"]].concat(), &[]).err().unwrap_or_default();
    assert!(bad.contains("--datastorage-url"), "{bad}");
}

#[test]
fn bad_values_are_rejected_with_what_is_expected() {
    let table: &[(&[&str], &str)] = &[
        (&["--gateway-url", "localhost:8080"], "expected an absolute http:// or https:// URL"),
        (&["--gateway-url", "not a url"], "expected an absolute"),
        (&["-j", "0"], "expected a whole number from 1 to 1024"),
        (&["-j", "18446744073709551615"], "from 1 to 1024"),
        (&["-j", "99999999999"], "from 1 to 1024"),
        (&["-j", "1000000000x"], "from 1 to 1024"),
        (&["--health-timeout", "10000000000000000000"], "--health-timeout"),
        (&["--health-timeout", "200h"], "7-day limit"),
        (&["--timeout", "0"], "is zero"),
        (&["--suite-timeout", "0s"], "is zero"),
        (&["--retries", "-1"], "--retries"),
        (&["-j", "-1"], "-j/--jobs"),
        (&["--max-fail", "-3"], "--max-fail"),
        (&["--gateway-url", "http://user:secret@localhost:8080"], "user name or password"),
        (&["--gateway-url", "http://localhost:8080/?x=1"], "`?query` or `#fragment`"),
        (&["--gateway-url", "http://localhost:8080#top"], "`?query` or `#fragment`"),
        (&["--junit", "target/some-new-dir/"], "ends in `/`"),
        (&["--junit", "/dev/null"], "not a regular file"),
        (&["--trace", "target/e2e/junit.xml"], "the trace would overwrite the report"),
        (&["--token-file", "/dev/null"], "not a regular file"),
        (&["--partition", "duration:1/4294967295"], "shards"),
        (&["--list", "--dry-run"], "--dry-run"),
        (&["--shuffle", "--order", "name"], "--order"),
        (&["--fail-fast", "--max-fail", "3"], "--max-fail"),
        (&["--ignored", "--include-ignored"], "--ignored"),
        (&["--format", "json"], "-Z unstable-options"),
        (&["--format", "json", "-Z", "unstable-options", "--list"], "not to --list"),
        (&["--logfile", "out.txt"], "--logfile is not supported"),
        (&["-j", "many"], "expected a whole number"),
        (&["--partition", "3/2"], "expected hash:K/N, slice:K/N or duration:K/N"),
        (&["--label-filter", "a &&"], "malformed --label-filter"),
        (&["--junit", "/proc/no-such-dir/junit.xml"], "pass --junit a file path"),
        (&["--token-file", "/nonexistent/token"], "cannot read --token-file"),
        (&["--max-fail", "0"], "expected at least 1"),
        (&["--kube", "maybe"], "[possible values: auto, none, in-cluster]"),
        (&["--order", "random"], "[possible values: longest, name]"),
        (&["--flaky-result", "maybe"], "[possible values: pass, fail]"),
        (&["--double-fault", "fail-fraction=2"], "is not between 0 and 1"),
        (&["--double-fault", "explode=1"], "unknown fault"),
        (&["--gateway-url", "http://x:1", "--double-fault", "seed=1"], "embedded double only"),
        (&["--flake-attempts", "0"], "expected at least 1"),
        (&["--focus", "("], "expected a regular expression"),
        (&["--timings", "/nonexistent/junit.xml"], "cannot read --timings"),
        (&["--partition", "duration:1/2"], "needs --timings PATH"),
    ];
    for (args, expected) in table {
        let err = resolve(args, &[]).err().unwrap_or_default();
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn jobs_accept_multiples_of_cpus() {
    assert_eq!(parse_jobs("4x", 2, "-j").ok(), Some(8));
    assert_eq!(parse_jobs("7", 2, "-j").ok(), Some(7));
    assert!(parse_jobs("0x", 2, "-j").is_err());
}

#[test]
fn fail_fast_means_max_fail_one() {
    assert_eq!(resolve(&["--fail-fast"], &[]).map(|c| c.max_fail), Ok(Some(1)));
    assert_eq!(resolve(&["--max-fail", "3"], &[]).map(|c| c.max_fail), Ok(Some(3)));
}

#[test]
fn indexed_job_environment_selects_the_shard() {
    let config = resolve(&[], &[("E2E_SHARDS", "4"), ("JOB_COMPLETION_INDEX", "2")]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.selection.partition.map(|p| p.to_string()), Some("slice:3/4".to_owned()));
    let flag_wins = resolve(&["--partition", "hash:1/2"], &[("E2E_SHARDS", "4"), ("JOB_COMPLETION_INDEX", "2")]);
    assert_eq!(flag_wins.map(|c| c.selection.partition.map(|p| p.to_string())), Ok(Some("hash:1/2".to_owned())));
    let out_of_range = resolve(&[], &[("E2E_SHARDS", "2"), ("JOB_COMPLETION_INDEX", "2")]).err().unwrap_or_default();
    assert!(out_of_range.contains("K must be between 1 and N"), "{out_of_range}");
    assert!(resolve(&[], &[("JOB_COMPLETION_INDEX", "0")]).is_ok_and(|c| c.selection.partition.is_none()));
}

#[test]
fn double_faults_parse_into_the_embedded_double_settings() {
    let config = resolve(&["--double-fault", "unhealthy-for=2s,fail-fraction=0.3", "--double-fault", "seed=7"], &[]);
    let faults = config.map(|c| c.double_faults).unwrap_or_else(|e| panic!("{e}")).unwrap_or_default();
    assert_eq!(faults.unhealthy_for, Some(std::time::Duration::from_secs(2)));
    assert_eq!((faults.signal_503_fraction, faults.seed), (0.3, 7));
}

#[test]
fn ginkgo_flags_have_ginkgo_meanings() {
    let config = resolve(&["--flake-attempts", "3", "--repeat", "2", "--randomize-all", "--seed", "9"], &[])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.retries, 2);
    assert_eq!(config.repeat, Repeat::Times(3));
    assert_eq!(config.selection.order, Order::Shuffle(9));
    assert_eq!(config.seed, Some(9));
    let seed_alone = resolve(&["--seed", "4"], &[]).map(|c| c.selection.order);
    assert_eq!(seed_alone, Ok(Order::Shuffle(4)));
    let config = resolve(&["--until-it-fails", "--junit-report", "/tmp/x/junit.xml", "--procs", "3"], &[])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((config.repeat, config.jobs), (Repeat::UntilItFails, 3));
    assert_eq!(config.junit, PathBuf::from("/tmp/x/junit.xml"));
}

#[test]
fn color_follows_the_flag_then_terminal_ci_and_no_color() {
    let cli = |args: &[&str]| {
        let mut argv = vec!["runner"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{e}"))
    };
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    };
    let color = |args: &[&str], pairs: &'static [(&'static str, &'static str)], tty: bool| {
        RunConfig::resolve(cli(args), &env(pairs), tty).map(|c| c.color).unwrap_or_else(|e| panic!("{e}"))
    };
    assert!(color(&[], &[], true));
    assert!(!color(&[], &[], false));
    assert!(!color(&[], &[("CI", "true")], true));
    assert!(!color(&[], &[("NO_COLOR", "1")], true));
    assert!(color(&["--color", "always"], &[("CI", "true")], false));
    assert!(!color(&["--color", "never"], &[], true));
}

#[test]
fn url_passwords_are_refused_without_being_repeated() {
    let err = resolve(&["--gateway-url", "http://user:s3cr3t@localhost:8080"], &[]).err().unwrap_or_default();
    assert!(err.contains("user name or password") && !err.contains("s3cr3t"), "{err}");
    let err = resolve(&["--health-url", "http://u:s3cr3t@localhost:28080/readyz"], &[]).err().unwrap_or_default();
    assert!(err.contains("***@localhost") && !err.contains("s3cr3t"), "{err}");
}

/// A URL refused for another reason (a bad port, a query) never shows its password or query.
#[test]
fn refused_urls_never_show_credentials_or_queries() {
    for url in ["http://u:s3cr3t@localhost:99999", "http://localhost:8080/?token=s3cr3t", "http://u:s3cr3t@h/#s3cr3t"] {
        let err = resolve(&["--gateway-url", url], &[]).err().unwrap_or_default();
        assert!(!err.is_empty() && !err.contains("s3cr3t"), "{url}: {err}");
    }
}

#[test]
fn token_files_must_hold_one_visible_ascii_line() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for (content, ok) in [
        ("abc.def-ghi_\n", true),
        ("abc\r\ndef", false),
        ("abc\0def", false),
        ("abc def", false),
        ("tök", false),
        ("\n\n", false),
    ] {
        let path = dir.path().join("token");
        std::fs::write(&path, content).unwrap_or_else(|e| panic!("{e}"));
        let result = resolve(&["--token-file", &path.display().to_string()], &[]);
        assert_eq!(result.is_ok(), ok, "{content:?}: {:?}", result.err());
        if let Ok(config) = result {
            assert_eq!(config.token.as_deref(), Some("abc.def-ghi_"));
        }
    }
}

#[test]
fn libtest_environment_and_color_conventions() {
    let config = resolve(&[], &[("RUST_TEST_THREADS", "3")]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((config.jobs, config.jobs_source), (3, JobsSource::RustTestThreads));
    let config = resolve(&[], &[("RUST_TEST_THREADS", "3"), ("E2E_JOBS", "5")]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((config.jobs, config.jobs_source), (5, JobsSource::Env));
    let color = |env: &[(&str, &str)]| resolve(&[], env).map(|c| c.color).unwrap_or_else(|e| panic!("{e}"));
    assert!(color(&[("CLICOLOR_FORCE", "1")]));
    assert!(!color(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]), "NO_COLOR wins");
    assert!(!color(&[("CLICOLOR_FORCE", "0")]));
    assert!(!color(&[("CLICOLOR", "0")]));
    assert_eq!(resolve(&["--format", "json", "-Z", "unstable-options"], &[]).map(|c| c.json), Ok(true));
    assert_eq!(resolve(&["--list", "--format", "terse"], &[]).map(|c| (c.json, c.terse)), Ok((false, true)));
    assert_eq!(resolve(&["--format", "terse"], &[]).map(|c| (c.json, c.terse)), Ok((false, true)));
    assert_eq!(resolve(&["--format", "pretty"], &[]).map(|c| (c.json, c.terse)), Ok((false, false)));
}

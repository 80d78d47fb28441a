//! `.config/nextest.toml`: the suite's `serial` cases (as `runner --dry-run` reports them) run
//! alone in a one-thread test group, and the `ci` profile writes JUnit.

use std::collections::BTreeSet;
use std::process::Command;

use toml_edit::{DocumentMut, Item};

use super::{read, support};

fn config() -> DocumentMut {
    read(".config/nextest.toml").parse().unwrap_or_else(|e| panic!(".config/nextest.toml: {e}"))
}

fn at<'a>(item: &'a Item, path: &[&str]) -> &'a Item {
    path.iter().fold(item, |item, key| item.get(*key).unwrap_or_else(|| panic!("nextest.toml lacks {path:?}")))
}

/// The cases the runner schedules in its serial phase.
fn serial_cases() -> BTreeSet<String> {
    let out = Command::new(support::RUNNER)
        .arg("--dry-run")
        .env("CI", "true")
        .env_remove("GATEWAY_URL")
        .env_remove("E2E_PARTITION")
        .output()
        .unwrap_or_else(|e| panic!("runner --dry-run: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("serial "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// Names a nextest filter selects with `test(=NAME)`.
fn exact_names(filter: &str) -> BTreeSet<String> {
    filter.split("test(=").skip(1).filter_map(|rest| rest.split(')').next()).map(str::to_owned).collect()
}

#[test]
fn serial_cases_run_alone_in_a_one_thread_group() {
    let config = config();
    let groups = at(config.as_item(), &["test-groups"]);
    let overrides = at(config.as_item(), &["profile", "default", "overrides"]);
    let overrides = overrides.as_array_of_tables().unwrap_or_else(|| panic!("overrides is not [[...]]"));
    let serial = overrides
        .iter()
        .find(|o| o.get("test-group").and_then(Item::as_str).is_some())
        .unwrap_or_else(|| panic!("no override puts tests in a group"));
    let group = serial.get("test-group").and_then(Item::as_str).unwrap_or_default();
    assert_eq!(at(groups, &[group, "max-threads"]).as_integer(), Some(1), "{group} runs one at a time");
    assert_eq!(serial.get("threads-required").and_then(Item::as_str), Some("num-test-threads"), "and alone");

    let filter = serial.get("filter").and_then(Item::as_str).unwrap_or_default();
    assert!(filter.contains("binary_id(runner::gateway)"), "{filter}");
    let expected = serial_cases();
    assert!(!expected.is_empty(), "the suite has serial cases");
    assert_eq!(exact_names(filter), expected, "the group's filter names exactly the suite's serial cases");
}

#[test]
fn ci_profile_writes_junit_and_runs_everything() {
    let config = config();
    let ci = at(config.as_item(), &["profile", "ci"]);
    let path = at(ci, &["junit", "path"]).as_str().unwrap_or_default();
    assert!(path.ends_with(".xml"), "{path}");
    assert_eq!(at(ci, &["fail-fast"]).as_bool(), Some(false));
}

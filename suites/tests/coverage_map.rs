//! Keeps `docs/upstream-coverage.md` honest: the cases it names are registered, its rows are the
//! 107 upstream specs each once, and its summary counts match the verdicts in the table.

use std::collections::{BTreeMap, BTreeSet};

/// The coverage map, read at compile time.
const MAP: &str = include_str!("../../docs/upstream-coverage.md");

/// Specs in upstream's Gateway e2e suite at the mapped commit.
const UPSTREAM_SPECS: usize = 107;

/// The verdicts a row may carry.
const VERDICTS: [&str; 8] = [
    "same-or-more",
    "weaker",
    "none: gap",
    "none: infrastructure",
    "none: not the gateway",
    "none: empty",
    "none: asserts nothing",
    "none: fleet-only",
];

/// One row of the map: the spec's `file:line`, the verdict, and the cases it names.
#[derive(Debug)]
struct Row {
    spec: String,
    verdict: String,
    cases: Vec<String>,
}

/// The cells of a Markdown table line, trimmed (`None` when the line is not a table row).
fn cells(line: &str) -> Option<Vec<&str>> {
    let inner = line.trim().strip_prefix('|')?.strip_suffix('|')?;
    Some(inner.split('|').map(str::trim).collect())
}

/// The texts between backticks in `text`.
fn backticked(text: &str) -> impl Iterator<Item = &str> {
    text.split('`').skip(1).step_by(2)
}

/// Whether `token` looks like a registered case name, `<area>::<function>`.
fn is_case_name(token: &str) -> bool {
    let Some((area, name)) = token.split_once("::") else { return false };
    let word = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    word(area) && word(name)
}

/// Whether `cell` is an upstream spec reference, `` `<file>_test.go:<line>` ``.
fn spec_of(cell: &str) -> Option<String> {
    let inner = cell.strip_prefix('`')?.strip_suffix('`')?;
    let (file, line) = inner.split_once(':')?;
    let ok = file.ends_with("_test.go") && !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| inner.to_owned())
}

/// The map's rows: table lines whose first cell is a spec reference.
fn rows() -> Vec<Row> {
    MAP.lines()
        .filter_map(|line| {
            let cells = cells(line)?;
            let spec = spec_of(cells.first()?)?;
            let verdict = cells.get(2).map(|v| (*v).to_owned()).unwrap_or_default();
            let cases = cells.iter().skip(3).flat_map(|c| backticked(c)).filter(|t| is_case_name(t));
            Some(Row { spec, verdict, cases: cases.map(str::to_owned).collect() })
        })
        .collect()
}

/// The summary table: verdict → number of rows.
fn summary() -> BTreeMap<String, usize> {
    MAP.lines()
        .filter_map(|line| {
            let cells = cells(line)?;
            let [verdict, count] = cells.as_slice() else { return None };
            Some(((*verdict).to_owned(), count.parse().ok()?))
        })
        .filter(|(verdict, _)| VERDICTS.contains(&verdict.as_str()))
        .collect()
}

#[test]
fn every_case_named_in_the_map_is_registered() {
    let registered: BTreeSet<&str> = suites::registered().iter().map(|c| c.name).collect();
    let named: BTreeSet<&str> = backticked(MAP).filter(|t| is_case_name(t)).collect();
    assert!(!named.is_empty(), "the map names no case");
    let unknown: Vec<&&str> = named.iter().filter(|n| !registered.contains(**n)).collect();
    assert!(unknown.is_empty(), "the map names cases that are not registered: {unknown:?}");
}

#[test]
fn there_is_one_row_per_upstream_spec() {
    let rows = rows();
    assert_eq!(rows.len(), UPSTREAM_SPECS, "rows in the map");
    let mut seen = BTreeSet::new();
    let repeated: Vec<&str> = rows.iter().filter(|r| !seen.insert(r.spec.as_str())).map(|r| r.spec.as_str()).collect();
    assert!(repeated.is_empty(), "specs listed more than once: {repeated:?}");
}

#[test]
fn every_row_has_a_known_verdict_and_covered_rows_name_cases() {
    for row in rows() {
        assert!(VERDICTS.contains(&row.verdict.as_str()), "{}: unknown verdict {:?}", row.spec, row.verdict);
        let covered = matches!(row.verdict.as_str(), "same-or-more" | "weaker");
        assert!(!covered || !row.cases.is_empty(), "{}: verdict {} names no case", row.spec, row.verdict);
    }
}

#[test]
fn the_summary_counts_match_the_table() {
    let mut counted: BTreeMap<String, usize> = VERDICTS.iter().map(|v| ((*v).to_owned(), 0)).collect();
    for row in rows() {
        *counted.entry(row.verdict).or_default() += 1;
    }
    assert_eq!(summary(), counted, "summary table against the verdicts of the rows");
}

#[test]
fn the_parsers_read_what_they_should() {
    assert!(is_case_name("scope::unmanaged_namespace_is_rejected"));
    assert!(!is_case_name("kubectl label"));
    assert!(!is_case_name("a::B"));
    assert_eq!(spec_of("`37_scope_filtering_test.go:192`").as_deref(), Some("37_scope_filtering_test.go:192"));
    assert_eq!(spec_of("`37_scope_filtering_test.go:x`"), None);
    assert_eq!(cells("| a | `b` |"), Some(vec!["a", "`b`"]));
    assert_eq!(backticked("x `a::b` y `c` z").collect::<Vec<_>>(), vec!["a::b", "c"]);
}

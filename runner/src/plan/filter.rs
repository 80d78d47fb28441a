//! Name and ignore filters with libtest's meaning: FILTER is a substring (or, with `--exact`, the
//! whole name), every `--skip` removes matches, ignored cases run only when asked. Pure.

/// Which cases marked `ignored` take part.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IgnoredMode {
    /// Ignored cases are left out (the default).
    #[default]
    Exclude,
    /// Only ignored cases (`--ignored`).
    Only,
    /// All cases (`--include-ignored`).
    Include,
}

/// The libtest name filters, plus Ginkgo's `--focus` / `--skip` regular expressions.
#[derive(Clone, Debug, Default)]
pub struct NameFilter {
    /// Positional FILTER.
    pub filter: Option<String>,
    /// Match whole names instead of substrings.
    pub exact: bool,
    /// `--skip` patterns.
    pub skip: Vec<String>,
    /// Treatment of ignored cases.
    pub ignored: IgnoredMode,
    /// Ginkgo `--focus` regular expressions: when any are given, a name must match one.
    pub focus: Vec<regex::Regex>,
    /// `--skip` patterns that are also regular expressions (Ginkgo's meaning of `--skip`).
    pub skip_regex: Vec<regex::Regex>,
}

impl PartialEq for NameFilter {
    fn eq(&self, other: &Self) -> bool {
        let sources = |v: &[regex::Regex]| v.iter().map(|r| r.as_str().to_owned()).collect::<Vec<_>>();
        self.filter == other.filter
            && self.exact == other.exact
            && self.skip == other.skip
            && self.ignored == other.ignored
            && sources(&self.focus) == sources(&other.focus)
            && sources(&self.skip_regex) == sources(&other.skip_regex)
    }
}

impl NameFilter {
    /// Whether a case named `name` (ignored or not) is selected.
    pub fn selects(&self, name: &str, ignored: bool) -> bool {
        let hit = |pattern: &str| if self.exact { name == pattern } else { name.contains(pattern) };
        let by_ignore = match self.ignored {
            IgnoredMode::Exclude => !ignored,
            IgnoredMode::Only => ignored,
            IgnoredMode::Include => true,
        };
        let focused = self.focus.is_empty() || self.focus.iter().any(|r| r.is_match(name));
        let skipped =
            self.skip.iter().any(|s| hit(s)) || (!self.exact && self.skip_regex.iter().any(|r| r.is_match(name)));
        by_ignore && focused && self.filter.as_deref().is_none_or(hit) && !skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_semantics() {
        let f = |filter: Option<&str>, exact: bool, skip: &[&str], ignored: IgnoredMode| NameFilter {
            filter: filter.map(str::to_owned),
            exact,
            skip: skip.iter().map(|s| (*s).to_owned()).collect(),
            ignored,
            ..NameFilter::default()
        };
        let ex = IgnoredMode::Exclude;
        let table: &[(NameFilter, &str, bool, bool)] = &[
            (f(None, false, &[], ex), "dedup::a", false, true),
            (f(None, false, &[], ex), "dedup::a", true, false),
            (f(None, false, &[], IgnoredMode::Only), "dedup::a", true, true),
            (f(None, false, &[], IgnoredMode::Only), "dedup::a", false, false),
            (f(None, false, &[], IgnoredMode::Include), "dedup::a", true, true),
            (f(Some("dedup"), false, &[], ex), "dedup::a", false, true),
            (f(Some("dedup"), false, &[], ex), "health::a", false, false),
            (f(Some("dedup"), true, &[], ex), "dedup::a", false, false),
            (f(Some("dedup::a"), true, &[], ex), "dedup::a", false, true),
            (f(None, false, &["::a"], ex), "dedup::a", false, false),
            (f(None, true, &["dedup"], ex), "dedup::a", false, true),
            (f(Some("dedup"), false, &["slow"], ex), "dedup::slow", false, false),
        ];
        for (filter, name, ignored, want) in table {
            assert_eq!(filter.selects(name, *ignored), *want, "{filter:?} {name} ignored={ignored}");
        }
    }

    #[test]
    fn ginkgo_focus_and_regex_skip() {
        let re = |s: &str| regex::Regex::new(s).unwrap_or_else(|e| panic!("{e}"));
        let focus = NameFilter { focus: vec![re("^dedup::"), re("health$")], ..NameFilter::default() };
        assert!(focus.selects("dedup::repeat", false));
        assert!(focus.selects("x::health", false));
        assert!(!focus.selects("validation::dedup::x", false));
        let skip = NameFilter { skip_regex: vec![re("conc.*ent")], ..NameFilter::default() };
        assert!(!skip.selects("dedup::concurrent_signals", false));
        assert!(skip.selects("dedup::repeat", false));
    }
}

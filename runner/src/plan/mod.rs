//! The plan: discover → name filter → label filter → partition → order. Pure functions from the
//! registered cases and the resolved selection to the list of cases this process runs.

mod filter;
mod labels;
mod order;
mod partition;

use std::collections::BTreeSet;

pub use filter::{IgnoredMode, NameFilter};
pub use labels::{LabelExpr, LabelExprError};
pub use order::{Order, Timings};
pub use partition::{Partition, PartitionError, PartitionKind};
use suites::Case;

/// What the user selected.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// libtest name filters.
    pub names: NameFilter,
    /// `--label-filter`.
    pub labels: Option<LabelExpr>,
    /// `--partition`.
    pub partition: Option<Partition>,
    /// Execution order within each phase.
    pub order: Order,
}

/// The cases to run: parallel ones first, then serial ones, one at a time.
#[derive(Clone, Debug, Default)]
pub struct TestPlan {
    /// Run concurrently, in this order.
    pub parallel: Vec<&'static Case>,
    /// Run alone after the parallel ones, in this order.
    pub serial: Vec<&'static Case>,
    /// Registered cases in total.
    pub registered: usize,
}

impl TestPlan {
    /// Number of cases to run.
    pub fn len(&self) -> usize {
        self.parallel.len() + self.serial.len()
    }

    /// Nothing selected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every planned case, in execution order.
    pub fn cases(&self) -> impl Iterator<Item = &'static Case> + '_ {
        self.parallel.iter().chain(self.serial.iter()).copied()
    }
}

/// Orders `cases` in place (exposed for the benchmarks' order comparison).
pub fn order_cases(cases: &mut [&'static Case], order: Order, timings: &Timings) {
    order::apply(cases, order, timings, |c| c.name);
}

/// The registry cannot be planned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// No case is compiled in.
    #[error(
        "no test cases are registered in this binary; cases register with `suites::case!` and the `suites` crate must be linked"
    )]
    EmptyRegistry,
    /// Two cases share a name.
    #[error("duplicate case name `{0}`: every case must have a unique name (rename one of the functions)")]
    DuplicateName(String),
}

/// Builds the plan for `registered` cases under `selection`, ordering by `timings`.
pub fn build(registered: &[&'static Case], selection: &Selection, timings: &Timings) -> Result<TestPlan, PlanError> {
    if registered.is_empty() {
        return Err(PlanError::EmptyRegistry);
    }
    let mut seen = BTreeSet::new();
    for case in registered {
        if !seen.insert(case.name) {
            return Err(PlanError::DuplicateName(case.name.to_owned()));
        }
    }
    let mut selected: Vec<&'static Case> = registered
        .iter()
        .copied()
        .filter(|c| selection.names.selects(c.name, c.ignored))
        .filter(|c| selection.labels.as_ref().is_none_or(|e| e.matches(c.labels)))
        .collect();
    selected.sort_by_key(|c| c.name);
    if let Some(partition) = &selection.partition {
        selected = partition.apply(selected, |c| c.name, timings);
    }
    let (mut serial, mut parallel): (Vec<&'static Case>, Vec<&'static Case>) =
        selected.into_iter().partition(|c| c.serial);
    order::apply(&mut parallel, selection.order, timings, |c| c.name);
    order::apply(&mut serial, selection.order, timings, |c| c.name);
    Ok(TestPlan { parallel, serial, registered: registered.len() })
}

#[cfg(test)]
mod tests {
    use suites::{Ctx, Failure};

    use super::*;

    fn noop(_: Ctx) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), Failure>> + Send>> {
        Box::pin(async { Ok(()) })
    }

    fn case(name: &'static str, labels: &'static [&'static str], serial: bool) -> &'static Case {
        let mut c = Case::new(name, "test", noop).labels(labels);
        c.serial = serial;
        Box::leak(Box::new(c))
    }

    fn names(cases: &[&'static Case]) -> Vec<&'static str> {
        cases.iter().map(|c| c.name).collect()
    }

    #[test]
    fn filters_compose_and_serial_cases_run_last() {
        let all = vec![
            case("b::two", &["dedup"], false),
            case("a::one", &["health"], false),
            case("c::load", &["load", "serial"], true),
            case("d::dedup_serial", &["dedup"], true),
        ];
        let plan = build(&all, &Selection::default(), &Timings::new()).map_err(|e| e.to_string());
        let plan = plan.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(names(&plan.parallel), vec!["a::one", "b::two"]);
        assert_eq!(names(&plan.serial), vec!["c::load", "d::dedup_serial"]);

        let selection = Selection { labels: LabelExpr::parse("dedup").ok(), ..Selection::default() };
        let plan = build(&all, &selection, &Timings::new()).unwrap_or_default();
        assert_eq!(names(&plan.cases().collect::<Vec<_>>()), vec!["b::two", "d::dedup_serial"]);

        let selection = Selection {
            names: NameFilter { filter: Some("::".into()), skip: vec!["load".into()], ..NameFilter::default() },
            labels: LabelExpr::parse("!health").ok(),
            ..Selection::default()
        };
        let plan = build(&all, &selection, &Timings::new()).unwrap_or_default();
        assert_eq!(names(&plan.cases().collect::<Vec<_>>()), vec!["b::two", "d::dedup_serial"]);
    }

    #[test]
    fn empty_registry_and_duplicates_are_errors() {
        assert_eq!(build(&[], &Selection::default(), &Timings::new()).err(), Some(PlanError::EmptyRegistry));
        let dup = vec![case("x::same", &[], false), case("x::same", &[], false)];
        assert_eq!(
            build(&dup, &Selection::default(), &Timings::new()).err(),
            Some(PlanError::DuplicateName("x::same".into()))
        );
    }

    #[test]
    fn partition_applies_after_filters() {
        let all: Vec<&'static Case> = ["a", "b", "c", "d", "e"].into_iter().map(|n| case(n, &[], false)).collect();
        let shard = |k| {
            let selection =
                Selection { partition: Partition::parse(&format!("slice:{k}/2")).ok(), ..Selection::default() };
            names(&build(&all, &selection, &Timings::new()).unwrap_or_default().parallel)
        };
        assert_eq!(shard(1), vec!["a", "c", "e"]);
        assert_eq!(shard(2), vec!["b", "d"]);
    }

    #[test]
    fn plan_is_deterministic_for_fixed_timings_and_seed() {
        let all: Vec<&'static Case> =
            ["a", "b", "c", "d", "e", "f", "g"].into_iter().map(|n| case(n, &[], n == "g")).collect();
        let timings: Timings = [("a", 5), ("c", 90), ("d", 40), ("g", 1)]
            .iter()
            .map(|(n, s)| ((*n).to_owned(), std::time::Duration::from_secs(*s)))
            .collect();
        let longest = build(&all, &Selection::default(), &timings).unwrap_or_default();
        assert_eq!(names(&longest.parallel), vec!["b", "e", "f", "c", "d", "a"]);
        assert_eq!(names(&longest.serial), vec!["g"]);
        for order in [Order::LongestFirst, Order::Shuffle(42)] {
            for partition in ["duration:1/2", "duration:2/2", "hash:1/2"] {
                let selection =
                    Selection { order, partition: Partition::parse(partition).ok(), ..Selection::default() };
                let first = names(&build(&all, &selection, &timings).unwrap_or_default().cases().collect::<Vec<_>>());
                let again = names(&build(&all, &selection, &timings).unwrap_or_default().cases().collect::<Vec<_>>());
                assert_eq!(first, again, "{order:?} {partition}");
            }
        }
    }
}

//! Execution order: longest first by recorded duration (unknown durations first, since they may
//! be long), or a seeded shuffle (`--shuffle` / `--randomize-all`). Same inputs, same order. Pure.

use std::collections::HashMap;
use std::time::Duration;

use rand::SeedableRng;
use rand::seq::SliceRandom;

/// Recorded case durations, by case name (from a previous JUnit report).
pub type Timings = HashMap<String, Duration>;

/// How to order the cases of a phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    /// Longest recorded duration first; unknown first; ties by name.
    #[default]
    LongestFirst,
    /// Name order (for comparisons).
    Name,
    /// Seeded random order.
    Shuffle(u64),
}

impl std::fmt::Display for Order {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Order::LongestFirst => write!(f, "longest recorded duration first (unknown first)"),
            Order::Name => write!(f, "by name"),
            Order::Shuffle(seed) => write!(f, "shuffled with --seed {seed}"),
        }
    }
}

/// Sorts `items` in place per `order`.
pub fn apply<T>(items: &mut [T], order: Order, timings: &Timings, name: impl Fn(&T) -> &str) {
    items.sort_by(|a, b| name(a).cmp(name(b)));
    match order {
        Order::Name => {}
        Order::LongestFirst => {
            // `None` (unknown) sorts before every `Some`, so reverse-compare Option<Reverse<_>>.
            items.sort_by_key(|item| timings.get(name(item)).map(|d| std::cmp::Reverse(*d)));
        }
        Order::Shuffle(seed) => {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            items.shuffle(&mut rng);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timings(pairs: &[(&str, u64)]) -> Timings {
        pairs.iter().map(|(n, ms)| ((*n).to_owned(), Duration::from_millis(*ms))).collect()
    }

    #[test]
    fn longest_first_with_unknown_first_and_name_ties() {
        let mut names = vec!["e", "d", "c", "b", "a"];
        apply(&mut names, Order::LongestFirst, &timings(&[("a", 10), ("b", 500), ("c", 500), ("d", 50)]), |s| s);
        assert_eq!(names, vec!["e", "b", "c", "d", "a"]);
    }

    #[test]
    fn shuffle_is_deterministic_for_a_seed_and_differs_across_seeds() {
        let base: Vec<String> = (0..30).map(|i| format!("case{i:02}")).collect();
        let run = |seed| {
            let mut v = base.clone();
            apply(&mut v, Order::Shuffle(seed), &Timings::new(), |s| s);
            v
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let mut sorted = run(7);
        sorted.sort();
        assert_eq!(sorted, base);
    }
}

//! Sharding (`--partition`): which of the filtered cases this process runs. Shards 1..N are
//! disjoint and together cover the filtered set, for any N. Pure.

use std::fmt;
use std::time::Duration;

use super::order::Timings;

/// How cases are assigned to shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionKind {
    /// Round-robin over the name-sorted selection: shard sizes differ by at most one.
    Slice,
    /// By a stable hash of the case name: a case keeps its shard when others are added.
    Hash,
    /// By recorded duration: longest first onto the lightest shard; unknown cases by hash.
    Duration,
}

/// Shard `index` of `total` (both counted from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    /// Assignment rule.
    pub kind: PartitionKind,
    /// This shard, 1..=total.
    pub index: u32,
    /// Number of shards.
    pub total: u32,
}

/// Why a `--partition` value was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid --partition `{value}`: {problem}; expected hash:K/N, slice:K/N or duration:K/N with 1 <= K <= N, e.g. slice:2/4"
)]
pub struct PartitionError {
    value: String,
    problem: String,
}

/// Most shards a partition may have: more than any CI matrix, and the duration balancer keeps one
/// counter per shard.
pub const MAX_SHARDS: u32 = 10_000;

impl Partition {
    /// Parses `hash:K/N`, `slice:K/N` or a bare `K/N` (slice).
    pub fn parse(value: &str) -> Result<Self, PartitionError> {
        let fail = |problem: &str| PartitionError { value: value.to_owned(), problem: problem.to_owned() };
        let (kind, rest) = match value.split_once(':') {
            Some(("hash", rest)) => (PartitionKind::Hash, rest),
            Some(("slice" | "count", rest)) => (PartitionKind::Slice, rest),
            Some(("duration", rest)) => (PartitionKind::Duration, rest),
            Some((other, _)) => return Err(fail(&format!("unknown kind `{other}`"))),
            None => (PartitionKind::Slice, value),
        };
        let (k, n) = rest.split_once('/').ok_or_else(|| fail("missing `/`"))?;
        let index: u32 = k.trim().parse().map_err(|_| fail("K is not a positive number"))?;
        let total: u32 = n.trim().parse().map_err(|_| fail("N is not a positive number"))?;
        if total == 0 {
            return Err(fail("N must be at least 1"));
        }
        if total > MAX_SHARDS {
            return Err(fail(&format!("N is more than {MAX_SHARDS} shards")));
        }
        if index == 0 || index > total {
            return Err(fail("K must be between 1 and N"));
        }
        Ok(Self { kind, index, total })
    }

    /// Keeps the items of `selection` (sorted by name) that belong to this shard.
    pub fn apply<T>(&self, selection: Vec<T>, name: impl Fn(&T) -> &str, timings: &Timings) -> Vec<T> {
        let shards = self.assign(&selection.iter().map(&name).collect::<Vec<_>>(), timings);
        selection.into_iter().zip(shards).filter(|(_, shard)| *shard == self.index).map(|(item, _)| item).collect()
    }

    /// The shard (1-based) of each name in `names` (sorted by name).
    pub fn assign(&self, names: &[&str], timings: &Timings) -> Vec<u32> {
        let total = u64::from(self.total);
        // Every slot is `< total`, so it fits in u32.
        let by_hash = |name: &str| u32::try_from(fnv1a(name) % total).unwrap_or(0) + 1;
        match self.kind {
            PartitionKind::Slice => {
                (0..names.len()).map(|i| u32::try_from(i as u64 % total).unwrap_or(0) + 1).collect()
            }
            PartitionKind::Hash => names.iter().map(|n| by_hash(n)).collect(),
            PartitionKind::Duration => {
                let mut shards: Vec<u32> = names.iter().map(|n| by_hash(n)).collect();
                let mut known: Vec<(usize, Duration)> =
                    names.iter().enumerate().filter_map(|(i, n)| timings.get(*n).map(|d| (i, *d))).collect();
                known.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| names[a.0].cmp(names[b.0])));
                let mut load = vec![Duration::ZERO; self.total as usize];
                for (i, duration) in known {
                    let lightest = (0..load.len()).min_by_key(|s| (load[*s], *s)).unwrap_or(0);
                    load[lightest] = load[lightest].saturating_add(duration);
                    shards[i] = u32::try_from(lightest).unwrap_or(0) + 1;
                }
                shards
            }
        }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            PartitionKind::Slice => "slice",
            PartitionKind::Hash => "hash",
            PartitionKind::Duration => "duration",
        };
        write!(f, "{kind}:{}/{}", self.index, self.total)
    }
}

/// FNV-1a, 64 bit: stable across Rust versions and platforms (unlike `DefaultHasher`).
fn fnv1a(text: &str) -> u64 {
    let mut hasher = fnv::FnvHasher::default();
    std::hash::Hasher::write(&mut hasher, text.as_bytes());
    std::hash::Hasher::finish(&hasher)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn absurd_shard_counts_and_times_are_refused_or_saturate() {
        assert!(Partition::parse("duration:1/4294967295").is_err());
        assert!(Partition::parse("slice:1/10000").is_ok());
        let timings: Timings = [("a", Duration::MAX), ("b", Duration::MAX), ("c", Duration::MAX)]
            .into_iter()
            .map(|(n, d)| (n.to_owned(), d))
            .collect();
        let partition = Partition { kind: PartitionKind::Duration, index: 1, total: 2 };
        assert_eq!(partition.assign(&["a", "b", "c"], &timings).len(), 3);
    }

    #[test]
    fn parses_kinds_and_rejects_bad_values() {
        assert_eq!(Partition::parse("hash:1/3"), Ok(Partition { kind: PartitionKind::Hash, index: 1, total: 3 }));
        assert_eq!(Partition::parse("slice:3/3").map(|p| p.to_string()), Ok("slice:3/3".to_owned()));
        assert_eq!(Partition::parse("2/4").map(|p| p.kind), Ok(PartitionKind::Slice));
        assert_eq!(Partition::parse("duration:2/2").map(|p| p.kind), Ok(PartitionKind::Duration));
        for bad in ["3/2", "0/2", "1/0", "hash:1", "ring:1/2", "a/b", "", "slice:-1/2"] {
            let err = Partition::parse(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("expected hash:K/N, slice:K/N or duration:K/N"), "{bad}: {err}");
        }
    }

    #[test]
    fn hash_shards_are_stable_across_versions() {
        // FNV-1a 64 of the name (published test vectors): shards must not move between versions.
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn slice_shards_differ_in_size_by_at_most_one() {
        let names: Vec<String> = (0..10).map(|i| format!("c{i:02}")).collect();
        let sizes: Vec<usize> = (1..=3)
            .map(|k| {
                Partition { kind: PartitionKind::Slice, index: k, total: 3 }
                    .apply(names.clone(), |s| s, &Timings::new())
                    .len()
            })
            .collect();
        assert_eq!(sizes, vec![4, 3, 3]);
    }

    #[test]
    fn duration_shards_balance_recorded_time() {
        let names: Vec<String> = ["a", "b", "c", "d", "e", "f"].iter().map(|s| (*s).to_owned()).collect();
        let timings: Timings = [("a", 60), ("b", 30), ("c", 30), ("d", 20), ("e", 10)]
            .iter()
            .map(|(n, s)| ((*n).to_owned(), Duration::from_secs(*s)))
            .collect();
        let load = |k| {
            let shard =
                Partition { kind: PartitionKind::Duration, index: k, total: 2 }.apply(names.clone(), |s| s, &timings);
            shard.iter().filter_map(|n| timings.get(n)).sum::<Duration>()
        };
        // Greedy longest-first: a -> 1, b -> 2, c -> 2, d -> 1 (tie at 60 s), e -> 2: 80 s vs 70 s.
        assert_eq!(load(1) + load(2), Duration::from_secs(150));
        assert!(load(1).abs_diff(load(2)) <= Duration::from_secs(10), "{:?} vs {:?}", load(1), load(2));
    }

    fn arb_timings(names: &[String], seed: u64) -> Timings {
        names
            .iter()
            .enumerate()
            .filter(|(i, _)| (seed >> (i % 64)) & 1 == 1)
            .map(|(i, n)| (n.clone(), Duration::from_millis((i as u64 * 7919 + seed) % 5000)))
            .collect()
    }

    proptest! {
        #[test]
        fn shards_are_disjoint_and_cover_the_selection(
            names in proptest::collection::btree_set("[a-z:_]{1,24}", 0..60),
            total in 1u32..9,
            kind in prop_oneof![Just(PartitionKind::Slice), Just(PartitionKind::Hash), Just(PartitionKind::Duration)],
            seed in any::<u64>(),
        ) {
            let names: Vec<String> = names.into_iter().collect();
            let timings = arb_timings(&names, seed);
            let mut seen: Vec<String> = Vec::new();
            for index in 1..=total {
                let shard = Partition { kind, index, total }.apply(names.clone(), |s| s, &timings);
                prop_assert_eq!(&shard, &Partition { kind, index, total }.apply(names.clone(), |s| s, &timings));
                for name in shard {
                    prop_assert!(!seen.contains(&name), "{} in two shards", name);
                    seen.push(name);
                }
            }
            seen.sort();
            prop_assert_eq!(seen, names);
        }
    }
}

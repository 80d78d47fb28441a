//! Sharding (`--partition`): which of the filtered cases this process runs. Shards 1..N are
//! disjoint and together cover the filtered set, for any N. Pure.

use std::fmt;

/// How cases are assigned to shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionKind {
    /// Round-robin over the name-sorted selection: shard sizes differ by at most one.
    Slice,
    /// By a stable hash of the case name: a case keeps its shard when others are added.
    Hash,
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
#[error("invalid --partition `{value}`: {problem}; expected hash:K/N or slice:K/N with 1 <= K <= N, e.g. slice:2/4")]
pub struct PartitionError {
    value: String,
    problem: String,
}

impl Partition {
    /// Parses `hash:K/N`, `slice:K/N` or a bare `K/N` (slice).
    pub fn parse(value: &str) -> Result<Self, PartitionError> {
        let fail = |problem: &str| PartitionError { value: value.to_owned(), problem: problem.to_owned() };
        let (kind, rest) = match value.split_once(':') {
            Some(("hash", rest)) => (PartitionKind::Hash, rest),
            Some(("slice" | "count", rest)) => (PartitionKind::Slice, rest),
            Some((other, _)) => return Err(fail(&format!("unknown kind `{other}`"))),
            None => (PartitionKind::Slice, value),
        };
        let (k, n) = rest.split_once('/').ok_or_else(|| fail("missing `/`"))?;
        let index: u32 = k.trim().parse().map_err(|_| fail("K is not a positive number"))?;
        let total: u32 = n.trim().parse().map_err(|_| fail("N is not a positive number"))?;
        if total == 0 {
            return Err(fail("N must be at least 1"));
        }
        if index == 0 || index > total {
            return Err(fail("K must be between 1 and N"));
        }
        Ok(Self { kind, index, total })
    }

    /// The shard (1-based) of the case at `position` in the name-sorted selection.
    pub fn shard_of(&self, position: usize, name: &str) -> u32 {
        let slot = match self.kind {
            PartitionKind::Slice => (position % self.total as usize) as u64,
            PartitionKind::Hash => fnv1a(name) % u64::from(self.total),
        };
        // `slot < total`, so it fits in u32.
        u32::try_from(slot).unwrap_or(0) + 1
    }

    /// Keeps the items of `selection` (sorted by name) that belong to this shard.
    pub fn apply<T>(&self, selection: Vec<T>, name: impl Fn(&T) -> &str) -> Vec<T> {
        selection
            .into_iter()
            .enumerate()
            .filter(|(pos, item)| self.shard_of(*pos, name(item)) == self.index)
            .map(|(_, item)| item)
            .collect()
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            PartitionKind::Slice => "slice",
            PartitionKind::Hash => "hash",
        };
        write!(f, "{kind}:{}/{}", self.index, self.total)
    }
}

/// FNV-1a, 64 bit: stable across Rust versions and platforms (unlike `DefaultHasher`).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parses_kinds_and_rejects_bad_values() {
        assert_eq!(Partition::parse("hash:1/3"), Ok(Partition { kind: PartitionKind::Hash, index: 1, total: 3 }));
        assert_eq!(Partition::parse("slice:3/3").map(|p| p.to_string()), Ok("slice:3/3".to_owned()));
        assert_eq!(Partition::parse("2/4").map(|p| p.kind), Ok(PartitionKind::Slice));
        for bad in ["3/2", "0/2", "1/0", "hash:1", "ring:1/2", "a/b", "", "slice:-1/2"] {
            let err = Partition::parse(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("expected hash:K/N or slice:K/N"), "{bad}: {err}");
        }
    }

    #[test]
    fn slice_shards_differ_in_size_by_at_most_one() {
        let names: Vec<String> = (0..10).map(|i| format!("c{i:02}")).collect();
        let sizes: Vec<usize> = (1..=3)
            .map(|k| Partition { kind: PartitionKind::Slice, index: k, total: 3 }.apply(names.clone(), |s| s).len())
            .collect();
        assert_eq!(sizes, vec![4, 3, 3]);
    }

    proptest! {
        #[test]
        fn shards_are_disjoint_and_cover_the_selection(
            names in proptest::collection::btree_set("[a-z:_]{1,24}", 0..60),
            total in 1u32..9,
            hash in any::<bool>(),
        ) {
            let names: Vec<String> = names.into_iter().collect();
            let kind = if hash { PartitionKind::Hash } else { PartitionKind::Slice };
            let mut seen: Vec<String> = Vec::new();
            for index in 1..=total {
                let shard = Partition { kind, index, total }.apply(names.clone(), |s| s);
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

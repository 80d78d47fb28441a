//! The case type and its registration with `inventory`: what a runner discovers.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::{Ctx, Failure};

/// The function a case runs.
pub type CaseFn = fn(Ctx) -> Pin<Box<dyn Future<Output = Result<(), Failure>> + Send>>;

/// One registered end-to-end case.
#[derive(Clone, Copy)]
pub struct Case {
    /// Unique name: `<area>::<function>`.
    pub name: &'static str,
    /// Area of the contract (JUnit `classname`), e.g. `health`.
    pub area: &'static str,
    /// Labels for `--label-filter` (Ginkgo's `Label`).
    pub labels: &'static [&'static str],
    /// Runs alone, after the parallel cases (Ginkgo's `Serial`).
    pub serial: bool,
    /// Reads the Kubernetes API; skipped when the run has no cluster access.
    pub needs_cluster: bool,
    /// Needs a gateway configured with Bearer tokens; skipped when the run has none.
    pub needs_auth: bool,
    /// Only run with `--ignored` / `--include-ignored`.
    pub ignored: bool,
    /// Own timeout, overriding the runner's per-case default.
    pub timeout: Option<Duration>,
    /// The case body.
    pub run: CaseFn,
    /// Source file the case is registered in (`file!()`), empty when unknown.
    pub file: &'static str,
    /// Line of its registration (`line!()`).
    pub line: u32,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("name", &self.name)
            .field("labels", &self.labels)
            .field("serial", &self.serial)
            .finish_non_exhaustive()
    }
}

impl Case {
    /// A parallel, HTTP-only case with no labels.
    pub const fn new(name: &'static str, area: &'static str, run: CaseFn) -> Self {
        Self {
            name,
            area,
            labels: &[],
            serial: false,
            needs_cluster: false,
            needs_auth: false,
            ignored: false,
            timeout: None,
            run,
            file: "",
            line: 0,
        }
    }

    /// Sets where the case is registered (the `case!` macro passes `file!()`, `line!()`).
    pub const fn at(mut self, file: &'static str, line: u32) -> Self {
        self.file = file;
        self.line = line;
        self
    }

    /// `file:line` of the case's registration, empty when unknown.
    pub fn location(&self) -> String {
        if self.file.is_empty() { String::new() } else { format!("{}:{}", self.file, self.line) }
    }

    /// Sets the labels.
    pub const fn labels(mut self, labels: &'static [&'static str]) -> Self {
        self.labels = labels;
        self
    }

    /// Marks the case serial.
    pub const fn serial(mut self) -> Self {
        self.serial = true;
        self
    }

    /// Marks the case as reading the Kubernetes API.
    pub const fn needs_cluster(mut self) -> Self {
        self.needs_cluster = true;
        self
    }

    /// Marks the case as needing a gateway with auth configured.
    pub const fn needs_auth(mut self) -> Self {
        self.needs_auth = true;
        self
    }

    /// Marks the case ignored by default.
    pub const fn ignored(mut self) -> Self {
        self.ignored = true;
        self
    }

    /// Sets the case's own timeout in seconds.
    pub const fn timeout_secs(mut self, secs: u64) -> Self {
        self.timeout = Some(Duration::from_secs(secs));
        self
    }
}

inventory::collect!(Case);

/// Every case compiled into this binary, in name order.
pub fn registered() -> Vec<&'static Case> {
    let mut cases: Vec<&'static Case> = inventory::iter::<Case>.into_iter().collect();
    cases.sort_by_key(|c| c.name);
    cases
}

/// Registers an async case function.
///
/// `case!(func, area = "dedup", labels = ["dedup"], serial, needs_cluster, timeout_secs = 60)`;
/// the flags after the labels are optional and may come in any order.
#[macro_export]
macro_rules! case {
    ($func:ident, area = $area:literal, labels = [$($label:literal),* $(,)?] $(, $flag:ident $(= $val:expr)?)* $(,)?) => {
        $crate::inventory::submit! {
            $crate::Case::new(
                concat!($area, "::", stringify!($func)),
                $area,
                |ctx| ::std::boxed::Box::pin($func(ctx)),
            )
            .labels(&[$($label),*])
            .at(file!(), line!())
            $(.$flag($($val)?))*
        }
    };
}

//! The Kubernaut Gateway end-to-end cases and the types a runner needs to run them.
//!
//! A case is an `async fn(Ctx) -> Result<(), Failure>` registered with [`case!`]; the runner
//! discovers every registered case through [`registered`]. Adding a case never means editing a
//! central list: write the function in the file of its area under `gateway/` and register it
//! next to it:
//!
//! ```ignore
//! async fn health_answers_200(ctx: Ctx) -> Result<(), Failure> { /* ... */ Ok(()) }
//! suites::case!(health_answers_200, area = "health", labels = ["health"]);
//! ```

mod case;
mod ctx;
mod eventually;
mod failure;
pub mod gateway;
mod log;
pub mod world;

pub use case::{Case, CaseFn, registered};
pub use ctx::{Ctx, CtxConfig, KUBERNETES_EVENT_PATH, NEEDS_CLUSTER, PROMETHEUS_PATH, Response};
pub use eventually::eventually;
pub use failure::{Failure, FailureKind};
pub use log::CaseLog;

#[doc(hidden)]
pub use inventory;

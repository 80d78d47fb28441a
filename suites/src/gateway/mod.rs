//! The gateway cases, one file per area of the contract, plus the helpers they share.

pub mod audit;
pub mod batch;
pub mod dedup;
pub mod events;
pub mod health;
pub mod ingestion;
pub mod load;
pub mod logs;
pub mod metrics;
pub mod problem;
pub mod scope;
pub mod scrape;
pub mod security;
pub mod support;
pub mod validation;

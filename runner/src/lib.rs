//! The runner as a library: parse → resolve → run → exit code. `main.rs` (the `runner` binary),
//! the `gateway` test target (so `cargo test` and cargo-nextest drive the suite through the
//! libtest-compatible CLI) and the benchmarks all enter here.

pub mod account;
pub mod cli;
pub mod config;
pub mod describe;
pub mod events;
pub mod gate;
pub mod layout;
pub mod merge;
pub mod plan;
pub mod pool;
pub mod report;
pub mod run;
pub mod target;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Instant;

use clap::Parser;

/// When this process entered the runner (the trace's time zero).
pub fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// Runs the runner on `args` (the first being the program name); the process exit code.
pub fn main_with(args: Vec<OsString>) -> ExitCode {
    process_start();
    // rustls needs one process-wide crypto provider before any TLS client (kube, reqwest) is built.
    fixtures::install_crypto_provider();
    if args.get(1).is_some_and(|a| a == "merge-junit") {
        return merge_junit(&args);
    }
    let cli = match cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { run::Exit::NotStarted as u8 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let env = |name: &str| std::env::var(name).ok();
    let config = match config::RunConfig::resolve(cli, &env, std::io::stderr().is_terminal()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(run::Exit::NotStarted as u8);
        }
    };
    pool::attempt::catch_case_panics();
    ExitCode::from(run::run(config) as u8)
}

/// `runner merge-junit OUT IN...`: one JUnit file from shard reports.
fn merge_junit(args: &[OsString]) -> ExitCode {
    let args = match cli::MergeJunit::try_parse_from(args.iter().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { run::Exit::NotStarted as u8 } else { 0 });
        }
    };
    match merge::merge_files(&args.out, &args.inputs) {
        Ok(summary) => {
            for name in &summary.duplicates {
                eprintln!("merge-junit: `{name}` appears in more than one input; kept its worst outcome once");
            }
            eprintln!("merge-junit: {} cases from {} reports -> {}", summary.cases, summary.inputs, args.out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(run::Exit::NotStarted as u8)
        }
    }
}

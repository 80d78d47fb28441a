//! `make bench`: measures the runner and the double and prints BENCHMARKS.md (markdown) on stdout.
//! Quick mode (default) stays under a minute; `--full` runs more repetitions and the stress table.
//! Benchmarks measure; they never assert on time.

mod measure;
mod process;

use std::time::Duration;

fn main() {
    let full = std::env::args().any(|a| a == "--full");
    if let Some(pos) = std::env::args().position(|a| a == "--memory") {
        // Child mode: one memory measurement in a fresh process.
        let n = std::env::args().nth(pos + 1).and_then(|n| n.parse().ok()).unwrap_or(64);
        measure::memory_child(n);
        return;
    }
    let reps = if full { 7 } else { 3 };
    let mut out = String::new();
    out.push_str("# Benchmarks\n\n");
    out.push_str(&format!(
        "Written by `make bench` ({} mode) on {}. Each figure is the median of {reps} runs unless it says otherwise; \
         no figure here is asserted by `make test`.\n\n",
        if full { "full" } else { "quick" },
        process::machine()
    ));
    let section = |name: &str, text: String| {
        eprintln!("bench: {name} done");
        text
    };
    out.push_str(&section("overhead", measure::overhead(reps)));
    out.push_str(&section("makespan", measure::makespan()));
    out.push_str(&section("startup", process::startup(reps)));
    out.push_str(&section("memory", process::memory()));
    let throughput_for = if full { Duration::from_secs(5) } else { Duration::from_secs(2) };
    out.push_str(&section("throughput", measure::throughput(throughput_for, reps)));
    out.push_str(&section("nextest", process::nextest_vs_runner()));
    out.push_str(&section("stress", process::stress(if full { 20 } else { 3 })));
    print!("{out}");
}

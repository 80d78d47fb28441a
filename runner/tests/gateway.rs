//! The gateway suite as a test target without libtest's harness: the runner itself is the
//! harness, with its libtest-compatible CLI. `cargo test` runs every case on the embedded double;
//! cargo-nextest lists the cases with `--list --format terse` and runs each with `--exact NAME`.

fn main() -> std::process::ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Keep `cargo test`'s report apart from the default one unless the caller chose a path.
    if std::env::var_os("E2E_JUNIT").is_none() && !args.iter().any(|a| a == "--junit" || a == "--list") {
        args.push("--junit".into());
        args.push(concat!(env!("CARGO_TARGET_TMPDIR"), "/gateway-junit.xml").into());
    }
    runner::main_with(args)
}

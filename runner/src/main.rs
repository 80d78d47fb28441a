//! `runner`: the process entry; everything else lives in the library (`lib.rs`).

fn main() -> std::process::ExitCode {
    runner::main_with(std::env::args_os().collect())
}

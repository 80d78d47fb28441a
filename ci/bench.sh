#!/usr/bin/env bash
# `make bench`: builds in release, measures, and writes BENCHMARKS.md. BENCH=full for the long
# mode (more repetitions, 20 stress runs per worker count).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# The benchmarks measure the embedded double; lib.sh names the Kind gateway.
unset GATEWAY_URL
cd "$ROOT"
mode=()
if [ "${BENCH:-quick}" = "full" ]; then mode=(--full); fi
log "building benchmarks (release)"
# Build first and run the binary directly: `cargo bench` would hold cargo's build lock while the
# benchmark runs, and the benchmark itself calls cargo (cargo-nextest) to compare against.
cargo build --release -p runner --bins >&2
# The test target cargo-nextest drives in section 6, built now so that section measures runs only.
cargo test --release -p runner --test gateway --no-run >&2
# The benchmark's own executable: cargo also reports the runner binary it builds beside it.
bench_bin=$(cargo bench -p runner --bench runner --no-run --message-format=json 2>/dev/null \
  | grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
[ -x "$bench_bin" ] || die "could not find the benchmark binary (cargo bench --no-run)"
log "running benchmarks (${BENCH:-quick} mode)"
"$bench_bin" "${mode[@]}" > target/BENCHMARKS.md.new
mv target/BENCHMARKS.md.new BENCHMARKS.md
log "wrote BENCHMARKS.md"

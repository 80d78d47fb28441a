#!/usr/bin/env bash
# Merges every shard report under DIR into OUT with `runner merge-junit`.
# Usage: ci/merge-reports.sh OUT DIR
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
[ "$#" -eq 2 ] || die "usage: ci/merge-reports.sh OUT DIR"
shopt -s nullglob
reports=("$2"/*.xml)
[ "${#reports[@]}" -gt 0 ] || die "no shard reports (*.xml) in $2"
cargo run -p runner --release -- merge-junit "$1" "${reports[@]}"

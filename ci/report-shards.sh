#!/usr/bin/env bash
# The report job's decision: merges the shard reports that exist under DIR into OUT and sets
# `found=true` in $GITHUB_OUTPUT. With none, sets `found=false` and fails unless the e2e job
# itself failed (E2E_RESULT=failure): a skipped or cancelled e2e job must not leave a green
# report behind, and a failed one already carries its failure and its artifacts.
# Usage: ci/report-shards.sh OUT DIR E2E_RESULT
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
[ "$#" -eq 3 ] || die "usage: ci/report-shards.sh OUT DIR E2E_RESULT"
out="$1" dir="$2" result="$3"
output="${GITHUB_OUTPUT:-/dev/null}"
shopt -s nullglob
reports=("$dir"/*.xml)
if [ "${#reports[@]}" -gt 0 ]; then
  log "merging ${#reports[@]} shard report(s) (e2e job: $result)"
  echo "found=true" >>"$output"
  exec bash "$ROOT/ci/merge-reports.sh" "$out" "$dir"
fi
echo "found=false" >>"$output"
if [ "$result" = "failure" ]; then
  log "no shard reports: the e2e job failed before any shard wrote one (see its artifacts)"
  exit 0
fi
printf 'error: no shard reports in %s and the e2e job result is "%s"\n' "$dir" "$result" >&2
exit 1

#!/usr/bin/env bash
# Runs the suite against the gateway in Kind through the NodePort mapping: every worker shares
# $GATEWAY_URL. Workers = all CPUs unless JOBS is set; PARTITION selects a shard; CASE is a name
# filter (libtest's substring match); extra arguments go to the runner. The audit cases read the
# DataStorage double at $DATASTORAGE_HOST_URL, named explicitly so that a DataStorage that does
# not answer fails them instead of letting them skip (empty: the runner's own probe decides).
# The runner writes its trace to $TRACE; when it exits non-zero, ci/collect-artifacts.sh
# gathers the cluster's side into $ARTIFACTS_DIR (default target/e2e/artifacts) and the runner's exit status is kept.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
export KUBECONFIG="$KUBECONFIG_PATH"
export TRACE="${TRACE:-$ROOT/target/e2e/trace.json}"
export ARTIFACTS_DIR="${ARTIFACTS_DIR:-$ROOT/target/e2e/artifacts}"

# --artifacts-dir: the report names where collect-artifacts.sh puts the cluster's side.
args=(--gateway-url "$GATEWAY_URL" --junit "$JUNIT" --trace "$TRACE" --artifacts-dir "$ARTIFACTS_DIR")
if [ -n "$DATASTORAGE_HOST_URL" ]; then args+=(--datastorage-url "$DATASTORAGE_HOST_URL"); fi
if [ -n "${JOBS:-}" ]; then args+=(--jobs "$JOBS"); fi
if [ -n "${PARTITION:-}" ]; then args+=(--partition "$PARTITION"); fi
if [ -n "${TOKEN_FILE:-}" ]; then args+=(--token-file "$TOKEN_FILE"); fi
if [ -n "${CASE:-}" ]; then args+=("$CASE"); fi
log "runner ${args[*]} $*"
status=0
cargo run -p runner --release -- "${args[@]}" "$@" || status=$?
if [ "$status" -ne 0 ]; then
  log "runner exited $status: collecting failure artifacts"
  bash "$ROOT/ci/collect-artifacts.sh"
fi
exit "$status"

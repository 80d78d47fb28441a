#!/usr/bin/env bash
# Runs the suite against the gateway in Kind through the NodePort mapping: every worker shares
# $GATEWAY_URL. Workers = all CPUs unless JOBS is set; PARTITION selects a shard.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
export KUBECONFIG="$KUBECONFIG_PATH"

args=(--gateway-url "$GATEWAY_URL" --junit "$JUNIT")
if [ -n "${JOBS:-}" ]; then args+=(--jobs "$JOBS"); fi
if [ -n "${PARTITION:-}" ]; then args+=(--partition "$PARTITION"); fi
if [ -n "${TOKEN_FILE:-}" ]; then args+=(--token-file "$TOKEN_FILE"); fi
log "runner ${args[*]}"
exec cargo run -p runner --release -- "${args[@]}" "$@"

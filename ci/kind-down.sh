#!/usr/bin/env bash
# Deletes the Kind cluster; safe to run when it does not exist.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
if ! command -v kind >/dev/null 2>&1; then
  log "kind is not installed: nothing to delete"
  exit 0
fi
if cluster_exists; then
  kind delete cluster --name "$CLUSTER_NAME"
else
  log "kind cluster $CLUSTER_NAME does not exist: nothing to delete"
fi
rm -f "$KUBECONFIG_PATH"

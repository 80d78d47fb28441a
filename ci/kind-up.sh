#!/usr/bin/env bash
# Creates the Kind cluster from the NodePort config if it is absent (idempotent) and exports its
# kubeconfig to $KUBECONFIG_PATH.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need kind "install kind (https://kind.sigs.k8s.io) and a container engine (docker or podman)"

if cluster_exists; then
  log "kind cluster $CLUSTER_NAME already exists"
else
  log "creating kind cluster $CLUSTER_NAME from $KIND_CONFIG (NodePorts 30080/30180/30090 -> localhost:8080/28080/9090)"
  kind create cluster --name "$CLUSTER_NAME" --config "$KIND_CONFIG" --wait "$WAIT_TIMEOUT"
fi
mkdir -p "$(dirname "$KUBECONFIG_PATH")"
kind export kubeconfig --name "$CLUSTER_NAME" --kubeconfig "$KUBECONFIG_PATH"
log "kubeconfig: $KUBECONFIG_PATH"

#!/usr/bin/env bash
# Shared settings for the ci/ scripts; sourced, never run. Every value can be overridden from the
# environment (the Makefile passes its variables through).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Scripts run from anywhere: cargo, relative paths and the manifests resolve from the root.
cd "$ROOT"
export CLUSTER_NAME="${CLUSTER_NAME:-gateway-e2e}"
export KIND_CONFIG="${KIND_CONFIG:-$ROOT/fixtures/data/kind/kind-gateway-config.yaml}"
export MANIFESTS="${MANIFESTS:-$ROOT/fixtures/data/manifests}"
export KUBECONFIG_PATH="${KUBECONFIG_PATH:-$ROOT/target/kind/kubeconfig}"
export NAMESPACE="${NAMESPACE:-kubernaut-system}"
# The doubles' image (fixtures/Dockerfile: gateway-double and datastorage-double). The
# DataStorage double runs from it in both modes; the gateway double too unless GATEWAY_IMAGE
# names a real Kubernaut Gateway.
export DOUBLE_IMAGE="${DOUBLE_IMAGE:-kubernaut-gateway-double:e2e}"
export GATEWAY_IMAGE="${GATEWAY_IMAGE:-$DOUBLE_IMAGE}"
export RUNNER_IMAGE="${RUNNER_IMAGE:-gateway-e2e-runner:e2e}"
# The Kind NodePort mappings (see KIND_CONFIG): API 30080 -> host 8080, health 30180 -> 28080,
# metrics 30090 -> 9090; the DataStorage double 30081 -> 18091 (the runner reads audit events there).
export GATEWAY_URL="${GATEWAY_URL:-http://localhost:8080}"
export GATEWAY_HEALTH_URL="${GATEWAY_HEALTH_URL:-http://localhost:28080}"
export GATEWAY_METRICS_URL="${GATEWAY_METRICS_URL:-http://localhost:9090}"
# Set but empty, it stays empty: ci/test-e2e-gateway.sh then leaves the DataStorage URL to the runner.
export DATASTORAGE_HOST_URL="${DATASTORAGE_HOST_URL-http://localhost:18091}"
# A real Kubernaut Gateway is deployed when KUBERNAUT_DIR names an upstream checkout (its CRD is
# applied from there); DATASTORAGE_URL is where it sends audit events (the DataStorage double's
# Service, deployed in both modes).
export KUBERNAUT_DIR="${KUBERNAUT_DIR:-}"
export DATASTORAGE_URL="${DATASTORAGE_URL:-http://data-storage-service.kubernaut-system.svc.cluster.local:8080}"
export JUNIT="${JUNIT:-$ROOT/target/e2e/junit.xml}"
export CONTAINER_ENGINE="${CONTAINER_ENGINE:-docker}"
# kind talks to podman only when told to.
if [ "$CONTAINER_ENGINE" = "podman" ]; then export KIND_EXPERIMENTAL_PROVIDER=podman; fi
export WAIT_TIMEOUT="${WAIT_TIMEOUT:-180s}"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# need CMD HINT: fail with a hint when a prerequisite is missing.
need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed: $2"
}

# load_image IMAGE: puts a local image into the Kind cluster's nodes. `kind load docker-image`
# needs the docker CLI, so podman images go through an archive.
load_image() {
  if [ "$CONTAINER_ENGINE" = "podman" ]; then
    local archive
    archive="$(mktemp)"
    podman save "$1" -o "$archive"
    kind load image-archive "$archive" --name "$CLUSTER_NAME"
    rm -f "$archive"
  else
    kind load docker-image "$1" --name "$CLUSTER_NAME"
  fi
}

cluster_exists() {
  kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"
}

# Renders the gateway manifests of the mode in force: with KUBERNAUT_DIR a real Gateway
# (render-manifests real), else the double's numbered manifests with GATEWAY_IMAGE and
# DOUBLE_IMAGE substituted (the runner Job is not part of the gateway deployment). Both modes
# include the DataStorage double.
render_gateway_manifests() {
  if [ -n "$KUBERNAUT_DIR" ]; then
    cargo run --quiet -p fixtures --bin render-manifests -- real --image "$GATEWAY_IMAGE" \
      --double-image "$DOUBLE_IMAGE" \
      --kubernaut-dir "$KUBERNAUT_DIR" --datastorage-url "$DATASTORAGE_URL"
    return
  fi
  local file
  for file in "$MANIFESTS"/[0-9][0-9]-*.yaml; do
    printf -- '---\n'
    sed -e "s|\${GATEWAY_IMAGE}|$GATEWAY_IMAGE|g" -e "s|\${DOUBLE_IMAGE}|$DOUBLE_IMAGE|g" "$file"
  done
}

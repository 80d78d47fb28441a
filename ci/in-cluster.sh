#!/usr/bin/env bash
# Runs the suite inside the cluster as an Indexed Job of $SHARDS pods (one shard each, in-cluster
# credentials, the Service's DNS name), collects each shard's JUnit from the worker node and
# merges them into $JUNIT. A failed run also gets ci/collect-artifacts.sh (with the Job's pods).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need kind "install kind (https://kind.sigs.k8s.io)"
need kubectl "install kubectl"
cluster_exists || die "kind cluster $CLUSTER_NAME does not exist: run 'make kind-up deploy' first"
export KUBECONFIG="$KUBECONFIG_PATH"
SHARDS="${SHARDS:-3}"
JOB_TIMEOUT="${JOB_TIMEOUT:-900s}"
REPORTS_DIR="${REPORTS_DIR:-$ROOT/target/e2e/in-cluster}"

log "loading $RUNNER_IMAGE into $CLUSTER_NAME"
load_image "$RUNNER_IMAGE"
for node in $(kind get nodes --name "$CLUSTER_NAME"); do
  "$CONTAINER_ENGINE" exec "$node" rm -rf /var/lib/gateway-e2e/reports
done
kubectl -n "$NAMESPACE" delete job gateway-e2e-runner --ignore-not-found --wait=true --timeout="$WAIT_TIMEOUT"
sed -e "s|\${RUNNER_IMAGE}|$RUNNER_IMAGE|g" -e "s|\${SHARDS}|$SHARDS|g" "$MANIFESTS/runner-job.yaml" | kubectl apply -f -
log "waiting up to $JOB_TIMEOUT for $SHARDS shards"
# A shard with a failing case fails its index (backoffLimitPerIndex: 0) and the Job ends Failed
# once every index is done; wait for whichever condition comes, bounded by JOB_TIMEOUT.
kubectl -n "$NAMESPACE" wait --for=condition=complete job/gateway-e2e-runner --timeout="$JOB_TIMEOUT" &
complete_pid=$!
kubectl -n "$NAMESPACE" wait --for=condition=failed job/gateway-e2e-runner --timeout="$JOB_TIMEOUT" &
failed_pid=$!
status=1
if wait -n "$complete_pid" "$failed_pid"; then
  if kubectl -n "$NAMESPACE" get job gateway-e2e-runner -o jsonpath='{.status.conditions[?(@.type=="Complete")].status}' | grep -qx True; then
    status=0
  fi
fi
kill "$complete_pid" "$failed_pid" 2>/dev/null || true
kubectl -n "$NAMESPACE" logs -l app.kubernetes.io/name=gateway-e2e-runner -c runner --prefix --tail=-1 || true

# The Job writes reports to a hostPath on the node its pods ran on (the one Kind worker).
rm -rf "$REPORTS_DIR"
mkdir -p "$REPORTS_DIR"
for node in $(kind get nodes --name "$CLUSTER_NAME"); do
  "$CONTAINER_ENGINE" cp "$node:/var/lib/gateway-e2e/reports/." "$REPORTS_DIR/" 2>/dev/null || true
done
"$ROOT/ci/merge-reports.sh" "$JUNIT" "$REPORTS_DIR" || status=1
if [ "$status" -ne 0 ]; then
  log "the in-cluster run failed: collecting failure artifacts"
  RUNNER_JOB_SELECTOR=app.kubernetes.io/name=gateway-e2e-runner bash "$ROOT/ci/collect-artifacts.sh"
fi
exit "$status"

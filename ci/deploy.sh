#!/usr/bin/env bash
# Loads the images into the Kind cluster, applies the manifests and waits (bounded) until the
# CRD is established and the DataStorage double and the gateway are rolled out. Two modes: the
# gateway double (default), or, with KUBERNAUT_DIR=<upstream checkout>, a real Kubernaut Gateway
# image with its CRD from that checkout and its config in a ConfigMap. In both, the gateway
# sends its audit events to the DataStorage double ($DATASTORAGE_URL, Service
# data-storage-service), which a real Gateway needs to start and to be ready.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need kind "install kind (https://kind.sigs.k8s.io)"
need kubectl "install kubectl"
cluster_exists || die "kind cluster $CLUSTER_NAME does not exist: run 'make kind-up' first"
export KUBECONFIG="$KUBECONFIG_PATH"
if [ -n "$KUBERNAUT_DIR" ]; then
  [ -f "$KUBERNAUT_DIR/config/crd/bases/kubernaut.ai_remediationrequests.yaml" ] \
    || die "KUBERNAUT_DIR=$KUBERNAUT_DIR is not a Kubernaut checkout (no config/crd/bases/kubernaut.ai_remediationrequests.yaml)"
  [ "$GATEWAY_IMAGE" != "$DOUBLE_IMAGE" ] \
    || die "KUBERNAUT_DIR deploys a real Gateway: set GATEWAY_IMAGE to its image"
  log "mode: real Kubernaut Gateway $GATEWAY_IMAGE (CRD from $KUBERNAUT_DIR, DataStorage $DATASTORAGE_URL)"
else
  log "mode: gateway double $GATEWAY_IMAGE"
fi

log "loading $DOUBLE_IMAGE into $CLUSTER_NAME"
load_image "$DOUBLE_IMAGE"
if [ "$GATEWAY_IMAGE" != "$DOUBLE_IMAGE" ]; then
  log "loading $GATEWAY_IMAGE into $CLUSTER_NAME"
  load_image "$GATEWAY_IMAGE"
fi
log "applying gateway manifests from $MANIFESTS"
render_gateway_manifests | kubectl apply -f -
kubectl wait --for=condition=Established crd/remediationrequests.kubernaut.ai --timeout="$WAIT_TIMEOUT"
# The tags do not change between builds: restart so the pods run the images just loaded.
# DataStorage first: the gateway is not ready without it.
kubectl -n "$NAMESPACE" rollout restart deployment/data-storage
kubectl -n "$NAMESPACE" rollout status deployment/data-storage --timeout="$WAIT_TIMEOUT"
kubectl -n "$NAMESPACE" rollout restart deployment/gateway
kubectl -n "$NAMESPACE" rollout status deployment/gateway --timeout="$WAIT_TIMEOUT"
log "gateway ready: API $GATEWAY_URL (NodePort 30080), health $GATEWAY_HEALTH_URL/readyz (30180), metrics $GATEWAY_METRICS_URL/metrics (30090), DataStorage double $DATASTORAGE_HOST_URL (30081)"

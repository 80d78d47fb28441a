#!/usr/bin/env bash
# Loads $GATEWAY_IMAGE into the Kind cluster, applies the gateway manifests and waits (bounded)
# until the CRD is established and the gateway is rolled out. Two modes: the gateway double
# (default), or, with KUBERNAUT_DIR=<upstream checkout>, a real Kubernaut Gateway image with its
# CRD from that checkout, its config in a ConfigMap and DataStorage at $DATASTORAGE_URL (the
# DataStorage double must be deployed there: a real Gateway is not ready without it).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need kind "install kind (https://kind.sigs.k8s.io)"
need kubectl "install kubectl"
cluster_exists || die "kind cluster $CLUSTER_NAME does not exist: run 'make kind-up' first"
export KUBECONFIG="$KUBECONFIG_PATH"
if [ -n "$KUBERNAUT_DIR" ]; then
  [ -f "$KUBERNAUT_DIR/config/crd/bases/kubernaut.ai_remediationrequests.yaml" ] \
    || die "KUBERNAUT_DIR=$KUBERNAUT_DIR is not a Kubernaut checkout (no config/crd/bases/kubernaut.ai_remediationrequests.yaml)"
  [[ "$GATEWAY_IMAGE" != kubernaut-gateway-double:* ]] \
    || die "KUBERNAUT_DIR deploys a real Gateway: set GATEWAY_IMAGE to its image"
  log "mode: real Kubernaut Gateway $GATEWAY_IMAGE (CRD from $KUBERNAUT_DIR, DataStorage $DATASTORAGE_URL)"
else
  log "mode: gateway double $GATEWAY_IMAGE"
fi

log "loading $GATEWAY_IMAGE into $CLUSTER_NAME"
load_image "$GATEWAY_IMAGE"
log "applying gateway manifests from $MANIFESTS"
render_gateway_manifests | kubectl apply -f -
kubectl wait --for=condition=Established crd/remediationrequests.kubernaut.ai --timeout="$WAIT_TIMEOUT"
# The tag does not change between builds: restart so the pod runs the image just loaded.
kubectl -n "$NAMESPACE" rollout restart deployment/gateway
kubectl -n "$NAMESPACE" rollout status deployment/gateway --timeout="$WAIT_TIMEOUT"
log "gateway ready: API $GATEWAY_URL (NodePort 30080), health $GATEWAY_HEALTH_URL/readyz (30180), metrics $GATEWAY_METRICS_URL/metrics (30090)"

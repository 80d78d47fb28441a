#!/usr/bin/env bash
# Loads $GATEWAY_IMAGE into the Kind cluster, applies the gateway manifests and waits (bounded)
# until the CRD is established and the gateway is rolled out.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need kind "install kind (https://kind.sigs.k8s.io)"
need kubectl "install kubectl"
cluster_exists || die "kind cluster $CLUSTER_NAME does not exist: run 'make kind-up' first"
export KUBECONFIG="$KUBECONFIG_PATH"

log "loading $GATEWAY_IMAGE into $CLUSTER_NAME"
load_image "$GATEWAY_IMAGE"
log "applying gateway manifests from $MANIFESTS"
render_gateway_manifests | kubectl apply -f -
kubectl wait --for=condition=Established crd/remediationrequests.kubernaut.ai --timeout="$WAIT_TIMEOUT"
# The tag does not change between builds: restart so the pod runs the image just loaded.
kubectl -n "$NAMESPACE" rollout restart deployment/gateway
kubectl -n "$NAMESPACE" rollout status deployment/gateway --timeout="$WAIT_TIMEOUT"
log "gateway ready behind NodePort 30080 ($GATEWAY_URL)"

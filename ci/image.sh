#!/usr/bin/env bash
# Builds the container images: the gateway double (fixtures/Dockerfile) and, with `runner` as
# the first argument, the runner image used by the in-cluster Indexed Job (runner/Dockerfile).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need "$CONTAINER_ENGINE" "install docker or podman, or set CONTAINER_ENGINE"

case "${1:-double}" in
  double)
    if [[ "$GATEWAY_IMAGE" != kubernaut-gateway-double:* ]]; then
      # A real Kubernaut Gateway image: nothing to build, make sure it is present locally for
      # `kind load docker-image`.
      log "GATEWAY_IMAGE=$GATEWAY_IMAGE is not the double: pulling it"
      "$CONTAINER_ENGINE" image inspect "$GATEWAY_IMAGE" >/dev/null 2>&1 || "$CONTAINER_ENGINE" pull "$GATEWAY_IMAGE"
    else
      log "building $GATEWAY_IMAGE"
      "$CONTAINER_ENGINE" build -f "$ROOT/fixtures/Dockerfile" -t "$GATEWAY_IMAGE" "$ROOT"
    fi
    ;;
  runner) log "building $RUNNER_IMAGE"; "$CONTAINER_ENGINE" build -f "$ROOT/runner/Dockerfile" -t "$RUNNER_IMAGE" "$ROOT" ;;
  *) die "unknown image '$1': expected double or runner" ;;
esac

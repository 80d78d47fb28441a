#!/usr/bin/env bash
# Builds the container images: the doubles (fixtures/Dockerfile: the gateway double and the
# DataStorage double, needed in both modes) and, with `runner` as the first argument, the runner
# image used by the in-cluster Indexed Job (runner/Dockerfile). A GATEWAY_IMAGE that is not the
# doubles' image (a real Kubernaut Gateway) is pulled when it is not present locally.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need "$CONTAINER_ENGINE" "install docker or podman, or set CONTAINER_ENGINE"

case "${1:-double}" in
  double)
    log "building $DOUBLE_IMAGE"
    "$CONTAINER_ENGINE" build -f "$ROOT/fixtures/Dockerfile" -t "$DOUBLE_IMAGE" "$ROOT"
    if [ "$GATEWAY_IMAGE" != "$DOUBLE_IMAGE" ]; then
      log "GATEWAY_IMAGE=$GATEWAY_IMAGE is not the doubles' image: making sure it is present locally"
      "$CONTAINER_ENGINE" image inspect "$GATEWAY_IMAGE" >/dev/null 2>&1 || "$CONTAINER_ENGINE" pull "$GATEWAY_IMAGE"
    fi
    ;;
  runner) log "building $RUNNER_IMAGE"; "$CONTAINER_ENGINE" build -f "$ROOT/runner/Dockerfile" -t "$RUNNER_IMAGE" "$ROOT" ;;
  *) die "unknown image '$1': expected double or runner" ;;
esac

#!/usr/bin/env bash
# After a failed Kind run: gathers what a reader needs to debug it into $ARTIFACTS_DIR
# (target/e2e/artifacts): the gateway pods' logs (current and previous container) and the
# DataStorage double's, both Deployments' pod descriptions, every event in the cluster, the
# RemediationRequests in $NAMESPACE, `kind export logs` and the runner's trace; with
# RUNNER_JOB_SELECTOR set (ci/in-cluster.sh), the runner Job's pods' logs and description.
# Every command is cut at ARTIFACT_TIMEOUT and every file at ARTIFACT_MAX_BYTES; what each
# command did is listed in index.txt. Never fails: it runs after a failure and must not replace
# that failure's exit status.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
set +e +o pipefail

OUT="${ARTIFACTS_DIR:-$ROOT/target/e2e/artifacts}"
STEP_TIMEOUT="${ARTIFACT_TIMEOUT:-60s}"
MAX_BYTES="${ARTIFACT_MAX_BYTES:-4194304}"
TRACE="${TRACE:-$ROOT/target/e2e/trace.json}"
GATEWAY_SELECTOR="${GATEWAY_SELECTOR:-app.kubernetes.io/name=gateway}"
DATASTORAGE_SELECTOR="${DATASTORAGE_SELECTOR:-app.kubernetes.io/name=data-storage}"
export KUBECONFIG="$KUBECONFIG_PATH"

mkdir -p "$OUT" || { log "cannot create $OUT: no artifacts"; exit 0; }
INDEX="$OUT/index.txt"
printf 'failure artifacts, %s, cluster %s, namespace %s\n' "$(date -u +%FT%TZ)" "$CLUSTER_NAME" "$NAMESPACE" >"$INDEX"

# note FILE WHAT: one line in index.txt.
note() { printf '%-28s %s\n' "$1" "$2" >>"$INDEX"; }

# capture FILE CMD...: CMD's stdout and stderr into FILE, bounded in time and size.
capture() {
  local file="$1" status
  shift
  if ! command -v "$1" >/dev/null 2>&1; then
    note "$file" "skipped: $1 is not installed"
    return 0
  fi
  timeout --kill-after=5s "$STEP_TIMEOUT" "$@" 2>&1 | head -c "$MAX_BYTES" >"$OUT/$file"
  status="${PIPESTATUS[0]}"
  local cut=""
  if [ "$(stat -c %s "$OUT/$file")" -ge "$MAX_BYTES" ]; then cut=" (cut at $MAX_BYTES bytes)"; fi
  case "$status" in
    0) note "$file" "ok$cut: $*" ;;
    124 | 137) note "$file" "timed out after $STEP_TIMEOUT$cut: $*" ;;
    *) note "$file" "exit $status$cut: $*" ;;
  esac
}

capture gateway-pods.txt kubectl -n "$NAMESPACE" get pods -o wide
capture gateway-describe.txt kubectl -n "$NAMESPACE" describe pods -l "$GATEWAY_SELECTOR"
capture gateway.log kubectl -n "$NAMESPACE" logs -l "$GATEWAY_SELECTOR" --all-containers --prefix --timestamps --tail=-1
capture gateway-previous.log kubectl -n "$NAMESPACE" logs -l "$GATEWAY_SELECTOR" --all-containers --prefix --timestamps --tail=-1 --previous
capture datastorage.log kubectl -n "$NAMESPACE" logs -l "$DATASTORAGE_SELECTOR" --all-containers --prefix --timestamps --tail=-1
capture datastorage-describe.txt kubectl -n "$NAMESPACE" describe pods -l "$DATASTORAGE_SELECTOR"
# The in-cluster runner Job's pods, when ci/in-cluster.sh names them.
if [ -n "${RUNNER_JOB_SELECTOR:-}" ]; then
  capture runner-job.log kubectl -n "$NAMESPACE" logs -l "$RUNNER_JOB_SELECTOR" --all-containers --prefix --timestamps --tail=-1
  capture runner-job-describe.txt kubectl -n "$NAMESPACE" describe pods -l "$RUNNER_JOB_SELECTOR"
fi
capture events.txt kubectl get events -A --sort-by=.lastTimestamp
capture remediationrequests.yaml kubectl get remediationrequests -n "$NAMESPACE" -o yaml
capture kind-export.txt kind export logs "$OUT/kind" --name "$CLUSTER_NAME"

if [ -f "$TRACE" ]; then
  head -c "$MAX_BYTES" "$TRACE" >"$OUT/trace.json"
  note trace.json "copied from $TRACE"
else
  note trace.json "skipped: no trace at $TRACE"
fi

# `kind export logs` writes a tree of files of its own: cut those too.
while IFS= read -r -d '' file; do
  truncate -s "$MAX_BYTES" "$file"
  note "${file#"$OUT"/}" "cut at $MAX_BYTES bytes"
done < <(find "$OUT" -type f -size +"$MAX_BYTES"c -print0)

log "failure artifacts in $OUT ($(du -sh "$OUT" 2>/dev/null | cut -f1)); see index.txt"
# In GitHub Actions the step summary says where they are (the workflow uploads the directory).
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  printf "\n**Failure artifacts**: \`%s\` (\`index.txt\` says what each file is)\n" "${OUT#"$ROOT"/}" \
    >>"$GITHUB_STEP_SUMMARY"
fi
exit 0

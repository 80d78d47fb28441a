# Thin verbs; the logic lives in cargo and in ci/*.sh (which a developer can run directly).
.PHONY: run test lint fmt bench kind-up image runner-image deploy test-e2e-gateway e2e \
        test-e2e-gateway-in-cluster kind-down

CARGO ?= cargo
CLUSTER_NAME ?= gateway-e2e
KIND_CONFIG ?= fixtures/data/kind/kind-gateway-config.yaml
# Kind maps the gateway Service's NodePort 30080 to this host port: every worker shares it.
GATEWAY_URL ?= http://localhost:8080
# The doubles' image (gateway double + DataStorage double, fixtures/Dockerfile); GATEWAY_IMAGE
# names a real Kubernaut Gateway's image instead of the double (with KUBERNAUT_DIR).
DOUBLE_IMAGE ?= kubernaut-gateway-double:e2e
GATEWAY_IMAGE ?= $(DOUBLE_IMAGE)
RUNNER_IMAGE ?= gateway-e2e-runner:e2e
JUNIT ?= target/e2e/junit.xml
# Workers: all CPUs unless JOBS is set. PARTITION (e.g. slice:1/3) runs one shard.
JOBS ?=
PARTITION ?=
# Bearer token for gateways with auth on (a real Kubernaut Gateway always is).
TOKEN_FILE ?=
SHARDS ?= 3
# An upstream Kubernaut checkout: deploy a real Gateway (GATEWAY_IMAGE=<its image>) instead of the double.
KUBERNAUT_DIR ?=
# Where a real Gateway sends audit events (default: ci/lib.sh).
DATASTORAGE_URL ?=
# `make e2e CASE=<filter>`: the cases whose names contain the filter (libtest's substring match).
CASE ?=
# More runner flags for `make e2e`, e.g. ARGS="--exact --nocapture".
ARGS ?=
# Chrome trace of the run; collected with the other failure artifacts.
TRACE ?= target/e2e/trace.json

KIND_ENV = CLUSTER_NAME=$(CLUSTER_NAME) KIND_CONFIG=$(KIND_CONFIG) GATEWAY_IMAGE=$(GATEWAY_IMAGE) DOUBLE_IMAGE=$(DOUBLE_IMAGE) \
           RUNNER_IMAGE=$(RUNNER_IMAGE) GATEWAY_URL=$(GATEWAY_URL) JUNIT=$(JUNIT) TRACE=$(TRACE) \
           KUBERNAUT_DIR=$(KUBERNAUT_DIR) $(if $(DATASTORAGE_URL),DATASTORAGE_URL=$(DATASTORAGE_URL))
RUN_ENV = JOBS=$(JOBS) PARTITION=$(PARTITION) TOKEN_FILE=$(TOKEN_FILE) CASE='$(CASE)'

run: ## run the gateway e2e suite on the embedded double
	$(CARGO) run -p runner

test: ## the project's tests: format, lints, unit and integration tests
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --workspace

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

bench: ## measured numbers, written to BENCHMARKS.md
	bash ci/bench.sh

kind-up: ## create the Kind cluster (idempotent)
	$(KIND_ENV) bash ci/kind-up.sh

image: ## build the doubles' image (gateway double + DataStorage double)
	$(KIND_ENV) bash ci/image.sh double

runner-image: ## build the runner's image (for the in-cluster Indexed Job)
	$(KIND_ENV) bash ci/image.sh runner

deploy: ## load the gateway image into Kind, apply the manifests, wait for rollout
	$(KIND_ENV) bash ci/deploy.sh

test-e2e-gateway: kind-up image deploy ## run the suite on Kind through the NodePort URL
	$(KIND_ENV) $(RUN_ENV) bash ci/test-e2e-gateway.sh

e2e: ## the runner against the Kind cluster that is up now (no kind-up/image/deploy); CASE=<filter>
	$(KIND_ENV) $(RUN_ENV) bash ci/test-e2e-gateway.sh $(ARGS)

test-e2e-gateway-in-cluster: kind-up image deploy runner-image ## the suite as an Indexed Job of SHARDS pods
	$(KIND_ENV) SHARDS=$(SHARDS) bash ci/in-cluster.sh

kind-down: ## delete the Kind cluster (safe to run twice)
	$(KIND_ENV) bash ci/kind-down.sh

# Thin verbs; the logic lives in cargo and in ci/*.sh.
.PHONY: run test lint fmt

CARGO ?= cargo

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

# Two commands do everything on a fresh machine (as root, see README):
#   make demo   Baton's main job, locally
#   make test   unit tests, then the end-to-end suite on a real control plane and LAN
SHELL := /bin/bash
NODE_TEST := node --enable-source-maps --test --test-reporter=spec

.PHONY: setup build toolchain test unit e2e image-check demo bench bench-ipam bench-speaker clean

setup:
	@scripts/setup.sh

build: setup
	npx tsc -p tsconfig.json

# Builds kube-apiserver, kube-controller-manager, etcd and helm once per machine (see src/lab/toolchain.ts).
toolchain: build
	node dist/src/lab/build-tools.js

unit: build
	$(NODE_TEST) dist/src

# The suite runs inside the lab namespace (launch.js) as a plain node process, so a signal reaches its teardown directly; then a separate process checks that nothing was left behind; both always run.
LAUNCH := node --enable-source-maps dist/src/lab/launch.js --

e2e: toolchain
	@rc=0; \
	$(LAUNCH) node --enable-source-maps --test-reporter=spec dist/e2e/suite.js || rc=1; \
	$(NODE_TEST) dist/e2e/after-suite.js || rc=1; \
	exit $$rc

# The Dockerfile's steps, run without a Docker engine in the host namespace (its npm ci needs the registry).
image-check: build
	$(NODE_TEST) dist/e2e/image.e2e.js

# Everything also goes to a log, from which the failures are summed up last (CI shows the end of the output).
TEST_LOG := /tmp/baton-test.log

test: build
	@set -o pipefail; rc=0; : > $(TEST_LOG); \
	$(MAKE) --no-print-directory unit 2>&1 | tee -a $(TEST_LOG) || rc=1; \
	$(MAKE) --no-print-directory image-check 2>&1 | tee -a $(TEST_LOG) || rc=1; \
	$(MAKE) --no-print-directory e2e 2>&1 | tee -a $(TEST_LOG) || rc=1; \
	if [ $$rc -ne 0 ]; then scripts/failure-digest.sh $(TEST_LOG); fi; \
	exit $$rc

# baton demo enters the lab namespace itself (through src/lab/launch.ts).
demo: toolchain
	node --enable-source-maps dist/src/cli/main.js demo

# Benchmarks print numbers (medians over repeats, ratios to a baseline of the same run); they assert nothing.
bench-ipam: toolchain
	$(LAUNCH) node --enable-source-maps dist/e2e/bench/ipam-bench.js

bench-speaker: toolchain
	$(LAUNCH) node --enable-source-maps dist/e2e/bench/speaker-bench.js

bench: bench-ipam bench-speaker

clean:
	rm -rf dist reports

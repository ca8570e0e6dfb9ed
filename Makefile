# Two commands do everything on a fresh machine (as root, see README):
#   make demo   Baton's main job, locally
#   make test   the fast lane, then the image and the end-to-end suite on a real control plane and LAN
# The fast lane alone needs neither root nor the toolchain: make check (or npm test).
SHELL := /bin/bash
NODE_TEST := node --enable-source-maps --test --test-reporter=spec

.PHONY: setup deps build typecheck lint format unit check toolchain test e2e image image-check demo chaos-lab bench bench-ipam bench-speaker bench-real-pods bench-scale bench-footprint clean

# System packages the lab drives (root, apt); only the lab's targets need them.
setup:
	@scripts/setup.sh

deps:
	@scripts/npm-deps.sh

# A clean build: a test file moved or deleted in src/ must not live on in dist/ and still run.
build: deps
	rm -rf dist
	npx tsc -p tsconfig.json

typecheck: deps
	npx tsc -p tsconfig.json --noEmit

# Formatting and lint, import-boundary rules included (biome.json); `make format` fixes what it can.
lint: deps
	npx biome ci .

format: deps
	npx biome check --write .

# Both cores: the three liveness modes of the speaker's fault cases are separate files (package.json test:unit:built).
unit: build
	npm run -s test:unit:built

# The fast lane: what every contributor runs before pushing, in well under a minute, without root.
check: typecheck lint unit

# Builds the control plane (kube-apiserver, kube-controller-manager, kube-scheduler, etcd), the nodes' software
# (kubelet, kube-proxy, containerd, crictl, kubectl, the pause image) and helm once per machine (dev/lab/toolchain.ts).
toolchain: setup build
	node dist/dev/lab/build-tools.js

# Each suite runs inside the lab namespace (launch.js) as a plain node process, so a signal reaches its teardown
# directly: first the one where the lab plays the kubelet (speaker faults, IPAM, IPv6), then the one on real nodes
# (kubelet, containerd, kube-proxy; the chart, real pods, chaos), which needs the image archive, both with the
# shipped liveness design; then the speaker's cases again with the fast design (e2e/fast-liveness-suite.ts). Then
# a separate process checks that nothing was left behind. All always run.
LAUNCH := node --enable-source-maps dist/dev/lab/launch.js --

e2e: toolchain image
	@rc=0; \
	$(LAUNCH) node --enable-source-maps --test-reporter=spec dist/e2e/suite.js || rc=1; \
	$(LAUNCH) node --enable-source-maps --test-reporter=spec dist/e2e/cluster-suite.js || rc=1; \
	BATON_E2E_LIVENESS=fast $(LAUNCH) node --enable-source-maps --test-reporter=spec dist/e2e/fast-liveness-suite.js || rc=1; \
	$(NODE_TEST) dist/e2e/after-suite.js || rc=1; \
	exit $$rc

# Builds the image with buildah (its stand-in base once per machine, then cached layers) and exports it to
# ${BATON_CACHE_DIR:-~/.cache/baton}/images/baton.oci.tar (dev/image/).
image: setup build
	node --enable-source-maps dist/dev/image/main.js

# The same real build, then the runtime image checked from outside and run (e2e/image.e2e.ts); as root, in the
# host namespace (its apt-get and npm ci need the mirror and the registry); fails if buildah is missing.
image-check: setup build
	$(NODE_TEST) dist/e2e/image.e2e.js

# Everything also goes to a log, from which the failures are summed up last (CI shows the end of the output).
TEST_LOG := /tmp/baton-test.log

# The fast lane first: a type, lint or unit failure stops the run within a minute.
test: setup build
	@set -o pipefail; rc=0; : > $(TEST_LOG); \
	$(MAKE) --no-print-directory check 2>&1 | tee -a $(TEST_LOG) || { scripts/failure-digest.sh $(TEST_LOG); exit 1; }; \
	$(MAKE) --no-print-directory image-check 2>&1 | tee -a $(TEST_LOG) || rc=1; \
	$(MAKE) --no-print-directory e2e 2>&1 | tee -a $(TEST_LOG) || rc=1; \
	if [ $$rc -ne 0 ]; then scripts/failure-digest.sh $(TEST_LOG); fi; \
	exit $$rc

# The checkout's CLI (dev/cli/main.ts) enters the lab namespace itself (through dev/lab/launch.ts).
demo: toolchain image
	node --enable-source-maps dist/dev/cli/main.js demo

chaos-lab: toolchain image
	node --enable-source-maps dist/dev/cli/main.js chaos --lab

# Benchmarks print numbers (medians over repeats, ratios to a baseline of the same run); they assert nothing.
bench-ipam: toolchain
	$(LAUNCH) node --enable-source-maps dist/e2e/bench/ipam-bench.js

bench-speaker: toolchain
	$(LAUNCH) node --enable-source-maps dist/e2e/bench/speaker-bench.js

# The speaker's failover on real pods (real nodes, the chart, kubelet SIGTERMs and node crashes), to set beside bench-speaker.
bench-real-pods: toolchain image
	$(LAUNCH) node --enable-source-maps dist/e2e/bench/real-pods-bench.js

# Many speakers (BENCH_SPEAKERS, default 50) against the real control plane, each liveness design side by side.
bench-scale: toolchain
	$(LAUNCH) node --enable-source-maps dist/e2e/bench/scale-bench.js

# Memory and CPU of a speaker (250 IPs) and a controller (1,000 Services), and Node.js settings against the shipped baseline.
bench-footprint: toolchain
	$(LAUNCH) node --enable-source-maps dist/e2e/bench/footprint-bench.js

bench: bench-ipam bench-speaker bench-real-pods bench-scale bench-footprint

clean:
	rm -rf dist reports

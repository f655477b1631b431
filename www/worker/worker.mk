# The edge worker (www/worker), its workerd tests (tests/npm/worker*.test.mjs, run by
# `make test-npm`) and its load bench (benches/worker). Included by the Makefile.

# npm packages of the worker (@line/bot-sdk, esbuild) and of its bench (autocannon), from the
# npm registry; workerd itself comes with pkg/node_modules.
www/worker/node_modules: www/worker/package.json www/worker/package-lock.json
	cd www/worker && npm ci --no-audit --no-fund --loglevel=error
	touch $@

benches/worker/node_modules: benches/worker/package.json benches/worker/package-lock.json
	cd benches/worker && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The worker tests live in tests/npm/ and need the worker's packages.
test-npm: www/worker/node_modules

.PHONY: bench-worker demo-worker
WWW_BENCHES += bench-worker

bench-worker: deps pkg www/worker/node_modules benches/worker/node_modules
	node benches/worker/bench.mjs

# The servers of the demo: mock LINE API, mock backend and the worker in workerd (Ctrl-C stops).
demo-worker: deps pkg www/worker/node_modules
	node www/demo.mjs

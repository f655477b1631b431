# www/app — the LIFF quiz app and the playground (included by the Makefile).
#   make app        build www/dist/app (Vite) from the npm package in pkg/
#   make test-app   browser tests (playwright-core + Debian's chromium), part of `make test`
#   make bench-app  page-load benchmark, part of `make bench`
APP_DIR := www/app
APP_DIST := www/dist/app
APP_SOURCES := $(wildcard $(APP_DIR)/*.html $(APP_DIR)/src/*) $(APP_DIR)/vite.config.js \
  pkg/browser.js pkg/sync.js $(wildcard pkg/sync/*.js) examples/skincare/config.json \
  examples/skincare/contexts.ndjson examples/broken-config.json

.PHONY: app test-app bench-app deps-app-fonts

# The playground's engine: the package's plus `kizuna check`'s warnings (the `lint` feature:
# +26 KB gzipped, so never in the npm package). Its own target dir, so that neither build
# replaces the other's artifacts; wasm-bindgen's output as is (a dev tool: no wasm-opt pass).
CHECK_WASM := target/lint/wasm32-unknown-unknown/wasm/kizuna.wasm
CHECK_PKG := target/check-pkg
$(CHECK_WASM): Cargo.toml build.rs .cargo/config.toml $(shell find src -name '*.rs') schema/context.schema.json .stamp/rust-wasm
	CARGO_TARGET_DIR=target/lint cargo build --lib --profile wasm --target wasm32-unknown-unknown --features arena,lint

$(CHECK_PKG)/browser.js: $(CHECK_WASM) .stamp/wasm-bindgen-$(WASM_BINDGEN_VERSION) pkg/browser.js pkg/scripts/glue.mjs
	rm -rf $(CHECK_PKG) && mkdir -p $(CHECK_PKG)/dist
	wasm-bindgen --target web --out-dir $(CHECK_PKG)/dist --out-name kizuna_check $(CHECK_WASM)
	node pkg/scripts/glue.mjs $(CHECK_PKG)/dist/kizuna_check.js
	sed 's|/kizuna\.js|/kizuna_check.js|; s|/kizuna_bg\.wasm|/kizuna_check_bg.wasm|' pkg/browser.js > $@
	grep -q kizuna_check_bg.wasm $@

# npm install, not ci: `kizuna` is a file: link to pkg/, whose manifest may change under the lock.
$(APP_DIR)/node_modules: $(APP_DIR)/package.json $(APP_DIR)/package-lock.json
	cd $(APP_DIR) && npm install --no-audit --no-fund --loglevel=error
	touch $@

# The build-time settings are part of the build: `VITE_LIFF_ID=… make app` after a build
# without them rebuilds (the stamp changes only when they do).
# (Compared and written by make itself, not a shell: any character in a value is safe.)
APP_SETTINGS := VITE_KIZUNA_BACKEND=$(VITE_KIZUNA_BACKEND) VITE_LIFF_ID=$(VITE_LIFF_ID) VITE_LIFF_MOCK=$(VITE_LIFF_MOCK) VITE_KIZUNA_QUERY_SETTINGS=$(VITE_KIZUNA_QUERY_SETTINGS) KIZUNA_CONFIG=$(KIZUNA_CONFIG)
ifneq ($(file < .stamp/app-settings),$(APP_SETTINGS))
$(shell mkdir -p .stamp)
$(file > .stamp/app-settings,$(APP_SETTINGS))
endif

$(APP_DIST)/index.html: $(APP_SOURCES) $(DIST)/kizuna_bg.wasm $(CHECK_PKG)/browser.js $(APP_DIR)/node_modules .stamp/app-settings
	cd $(APP_DIR) && node_modules/.bin/vite build --logLevel warn

app: $(APP_DIST)/index.html

# Japanese glyphs for the screenshots (Debian's IPA Gothic, ~3.5 MB), only when none is installed.
deps-app-fonts:
	if ! fc-list :lang=ja 2>/dev/null | grep -q .; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-ipafont-gothic; fi

test-app: deps-browser deps-app-fonts app
	node --test --test-concurrency=1 tests/browser/

bench-app: deps-browser app
	node benches/app/pageload.mjs

WWW_TESTS += test-app
WWW_BENCHES += bench-app

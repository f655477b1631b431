# kizuna — `make demo` and `make test` set up whatever is missing on a fresh Debian 12 machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
WASM_BINDGEN_VERSION := $(shell sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
CARGO_BIN := $(HOME)/.cargo/bin
export PATH := $(CARGO_BIN):$(PATH)
WASM := target/wasm32-unknown-unknown/wasm/kizuna.wasm
DIST := pkg/dist
WASM_OPT := pkg/node_modules/.bin/wasm-opt
CHROMIUM := /usr/bin/chromium

.PHONY: demo test bench deps deps-browser pkg schema check-size clean test-native test-wasm test-npm lint

# www/ parts (edge worker, LIFF app) bring their own rules and add their targets to these lists.
WWW_TESTS :=
WWW_BENCHES :=
-include www/worker/worker.mk www/app/app.mk

# ---- set-up (each step only when missing) ----------------------------------------------
deps: .stamp/rust-wasm .stamp/wasm-bindgen-$(WASM_BINDGEN_VERSION) pkg/node_modules benches/node_modules

.stamp/rust-wasm:
	rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	mkdir -p .stamp && touch $@

# wasm-bindgen-cli must be exactly the crate's version (about 5 minutes to build on 2 cores).
.stamp/wasm-bindgen-$(WASM_BINDGEN_VERSION):
	if ! wasm-bindgen --version 2>/dev/null | grep -q " $(WASM_BINDGEN_VERSION)$$"; then \
	  cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION); fi
	mkdir -p .stamp && touch $@

pkg/node_modules: pkg/package.json
	cd pkg && npm install --no-audit --no-fund --loglevel=error
	touch $@

benches/node_modules: benches/package.json
	cd benches && npm install --no-audit --no-fund --loglevel=error
	touch $@

# Debian's chromium + chromedriver serve wasm-bindgen-test (never a downloaded browser).
deps-browser:
	if [ ! -x $(CHROMIUM) ] || [ ! -x /usr/bin/chromedriver ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; fi

# ---- build -------------------------------------------------------------------------------
$(WASM): Cargo.toml build.rs .cargo/config.toml $(shell find src -name '*.rs') .stamp/rust-wasm
	cargo build --lib --profile wasm --target wasm32-unknown-unknown --features arena

# wasm-bindgen's `web` output, optimised by binaryen's wasm-opt (Debian's is too old), plus
# TypeScript types of the contract generated from schema/. `-ocimfs 100`: wasm-opt inlines a
# function with one caller only when it is small. Its default merges them whatever their size,
# into functions of 20-40 KB that V8 must compile whole on their first call even when one branch
# runs (benches/coldstart.mjs: ~3 ms faster; gzipped size and the benches unchanged).
$(DIST)/kizuna_bg.wasm: $(WASM) .stamp/wasm-bindgen-$(WASM_BINDGEN_VERSION) pkg/node_modules $(wildcard schema/*.json) pkg/scripts/glue.mjs pkg/scripts/contract-types.mjs pkg/scripts/line-message.d.ts
	rm -rf $(DIST) && mkdir -p $(DIST)
	wasm-bindgen --target web --out-dir $(DIST) --out-name kizuna $(WASM)
	node pkg/scripts/glue.mjs $(DIST)/kizuna.js
	$(WASM_OPT) -O3 -ocimfs 100 --strip-producers --strip-target-features --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
	  $(DIST)/kizuna_bg.wasm -o $(DIST)/kizuna_bg.wasm
	node pkg/scripts/contract-types.mjs schema $(DIST)/contract.d.ts

pkg: $(DIST)/kizuna_bg.wasm pkg/LICENSE-MIT pkg/LICENSE-APACHE

# The licenses live at the top; npm pack leaves symlinks out, so the package gets copies.
pkg/LICENSE-%: LICENSE-%
	cp $< $@

check-size: pkg
	node pkg/scripts/size.mjs

schema:
	KIZUNA_WRITE_SCHEMA=1 cargo test --test schema

# ---- the two commands --------------------------------------------------------------------
# The example decisions, then the servers: worker in workerd, mock LINE API and backend, the
# LIFF quiz app and the playground (Ctrl-C stops; DEMO_EXIT_AFTER=s exits after s seconds).
demo: deps pkg app www/worker/node_modules
	cargo build --release --bin kizuna
	node examples/demo.mjs
	node www/demo.mjs --app

lint:
	cargo clippy --all-targets -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown --features arena -- -D warnings
	CARGO_TARGET_DIR=target/lint cargo clippy --lib --target wasm32-unknown-unknown --features arena,lint -- -D warnings

test-wasm: deps deps-browser
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	  cargo test --target wasm32-unknown-unknown --features wasm-tests,arena --test wasm_node
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner CHROMEDRIVER=/usr/bin/chromedriver \
	  WASM_BINDGEN_USE_BROWSER=1 cargo test --target wasm32-unknown-unknown --features wasm-tests,arena --test wasm_browser

# The package's gzipped size may not grow past this unnoticed (the issues' 150 KB target is
# missed; see the README). Raise it in the commit that needs it, with the reason. 328: session
# 22's checks and the streaming bulk batch put the package at 327.4 KiB; 329: session 23's LINE
# aggregation units for experiment arms (their checks and the decision's field) and rich-menu
# area bounds inside the menu, 328.7 KiB; 330: session 24's substr in UTF-16 units as
# json-logic-js counts (found by the JsonLogic differential test) and the Node fast path giving
# back result buffers over 256 KiB (found by the memory soak), 329.1 KiB.
SIZE_BUDGET_KIB := 330

test-npm: deps pkg
	node pkg/scripts/size.mjs --budget $(SIZE_BUDGET_KIB)
	node --test tests/npm/

test-native:
	cargo test --lib --bins --tests

# Everything; the run ends on cargo's own summary line.
test: deps deps-browser lint test-wasm test-npm $(WWW_TESTS) test-native

bench: deps pkg
	cargo bench --bench decide
	node benches/segments.mjs
	node benches/templates.mjs
	node benches/coldstart.mjs
	node pkg/scripts/size.mjs
	$(if $(WWW_BENCHES),$(MAKE) $(WWW_BENCHES))

clean:
	rm -rf target $(DIST) .stamp pkg/node_modules benches/node_modules

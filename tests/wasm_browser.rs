//! wasm-bindgen-test in headless Chromium (Debian's chromium + chromedriver; `make test-wasm`).
#![cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
include!("common/wasm.rs");

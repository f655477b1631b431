//! wasm-bindgen-test in Node (`make test-wasm`).
#![cfg(target_arch = "wasm32")]
include!("common/wasm.rs");

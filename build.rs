// `cfg(lint)`: the code behind `Engine::warnings` (kizuna check's warnings). Native builds
// always have it; a Wasm build only with the `lint` feature (the playground's), so the npm
// package's Wasm stays without it.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(lint)");
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|a| a == "wasm32");
    if !wasm || std::env::var_os("CARGO_FEATURE_LINT").is_some() {
        println!("cargo::rustc-cfg=lint");
    }
}

//! kizuna — a rule engine for LINE Official Account marketing.
//!
//! A [`Config`] (segments written in JsonLogic plus marketing operators) compiles once into an
//! [`Engine`]; [`Engine::decide`] turns one [`Context`] (a user at a moment, plus the LINE
//! event) into a [`Decision`]. The same code runs natively and in WebAssembly, so a decision is
//! byte-identical in a LIFF app, on an edge worker, in Node and in a batch job.
//!
//! ```
//! let engine = kizuna::Engine::compile(r#"{"version": 1, "segments": [
//!     {"id": "vip", "when": {"has_tag": "vip"}}]}"#).unwrap();
//! let d = engine.decide(r#"{"now": "2026-11-27T10:00:00+09:00",
//!     "user": {"userId": "U1", "tags": ["vip"]}}"#, Default::default()).unwrap();
//! assert_eq!(d.segments, ["vip"]);
//! ```
// One exception, reasoned in its module: the npm package's allocator (`arena`).
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

#[cfg(any(test, all(feature = "arena", target_arch = "wasm32", not(target_feature = "atomics"))))]
mod arena;
pub mod contract;
pub mod engine;
pub mod error;
mod hash;
mod line;
mod line_shape;
mod sort;
pub mod tz;
pub mod logic;
pub mod quiz;
pub mod template;
pub mod value;
/// The JavaScript bindings (the npm package `kizuna`).
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use contract::{Config, Context, Decision};
pub use engine::{DecideOptions, Engine};
pub use error::{Code, Error};

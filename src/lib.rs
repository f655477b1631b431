//! kizuna — a rule engine for LINE Official Account marketing.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::unreachable, clippy::todo)
)]

pub mod error;
pub mod value;

pub use error::{Code, Error};

//! Pure data and pure functions: no I/O lives here, so all of it is unit-tested
//! in isolation. Nothing here imports another module of the crate.

pub mod access;
pub mod badge;
pub mod changes;
pub mod checks;
pub mod claim;
pub mod engine;
pub mod headers;
pub mod key;
pub mod layout;
pub mod legs;
pub mod lenient;
pub mod manifest;
pub mod notify;
pub mod plan;
pub mod pointer;
pub mod publish_plan;
pub mod quality_gate;
pub mod retention;
pub mod route;
pub mod run_id;
pub mod segment;
pub mod server;
pub mod signature;
pub mod stats;
pub mod status;
pub mod summary;
pub mod test_board;
pub mod test_history;
pub mod test_scores;
pub mod time;
pub mod variant;
pub mod web;

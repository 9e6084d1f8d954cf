//! Pure data and pure functions: no I/O lives here, so all of it is unit-tested
//! in isolation.

pub mod layout;
pub mod manifest;
pub mod pointer;
pub mod run_id;
pub mod segment;

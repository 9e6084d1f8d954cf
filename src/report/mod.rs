//! Everything about Allure: checking results, running the CLI with history
//! carried over, reading the summary, and the header policy of report files.

pub mod allure3;
pub mod allure_cli;
pub mod analytics;
pub mod completed;
pub mod engine_process;
pub mod executor;
pub mod failures;
pub mod jvm;
pub mod npm_pin;
pub mod read;
pub mod results;
pub mod results_view;
pub mod summary;
pub mod test_index;

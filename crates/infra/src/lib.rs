//! The AWS side: a private bucket read only by one CloudFront distribution
//! through an Origin Access Control. Pure parts (names, policies, rules, the
//! distribution, plans, checks) are separate from `aws`, the one module here
//! that talks to AWS.

pub mod access;
pub mod aws;
pub mod bucket_policy;
pub mod config_file;
pub mod distribution;
pub mod env_file;
pub mod function_test;
pub mod iam;
pub mod lifecycle;
pub mod names;
pub mod plan;
pub mod preflight;
pub mod state;
pub mod validate;

use allure_host_model as model;

//! allure-host: publish Allure reports privately to S3 + CloudFront, or to a
//! local directory.

pub mod model;
pub mod report;
pub mod storage;
pub mod cli;
pub mod settings;
pub mod pages;

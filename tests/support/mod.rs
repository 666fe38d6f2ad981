//! Shared support for the root package's integration tests.
#![allow(dead_code)]

pub mod apps;
pub mod email;
pub mod faults;
pub mod faults_allowed;
pub mod faults_azure;
pub mod faults_entitlements;
pub mod faults_modify;
pub mod faults_okta;
pub mod faults_rfc;
pub mod recorded;

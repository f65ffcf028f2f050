//! Shared helpers of the cross-crate tests: canonical examples of every DTO.

pub mod canonical;

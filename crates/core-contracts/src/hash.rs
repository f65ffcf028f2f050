//! The payload hash of the wire format: SHA-256 hex of the payload as pydantic v2's
//! `model_dump_json()` writes it, exactly as the Python encoder computes it.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::pydantic_json::to_pydantic_json;

/// SHA-256 hex digest of `payload` serialized as pydantic's `model_dump_json()` would.
///
/// For a received payload, pass the decoded `serde_json::Value`: it keeps the keys in the
/// order they arrived, so the digest is that of what the sender hashed.
///
/// ```
/// let payload = serde_json::json!({"coordinator_id":"bars-coord","queue_size":80});
/// assert_eq!(core_contracts::payload_hash(&payload)?.len(), 64);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn payload_hash<T: Serialize + ?Sized>(payload: &T) -> Result<String, serde_json::Error> {
    Ok(sha256_hex(&to_pydantic_json(payload)?))
}

/// Lowercase SHA-256 hex digest of `bytes` (what `meta.hash` holds).
pub fn sha256_hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(64);
    for byte in Sha256::digest(bytes) {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether `expected` (a `meta.hash`, possibly absent) matches `payload`; an absent hash
/// matches anything, a payload that cannot be serialized matches nothing.
pub fn hash_matches<T: Serialize + ?Sized>(payload: &T, expected: Option<&str>) -> bool {
    match expected {
        None => true,
        Some(h) => payload_hash(payload).is_ok_and(|actual| h.eq_ignore_ascii_case(&actual)),
    }
}

//! JSON written exactly as pydantic v2's `model_dump_json()` writes it, which is what the
//! Python encoder hashes: compact, keys in the order written, non-ASCII text as raw UTF-8
//! (only `"`, `\` and control characters escaped), floats in their shortest round-trip form
//! with a fixed-notation window and a signed exponent (`0.00005`, `1e-7`, `1e+16`).
//!
//! pydantic-core writes JSON by the same rules as `serde_json`'s compact form: the same string
//! escaping, and the same float digits (ryu's shortest round-trip form, fixed notation for
//! decimal exponents from -5 to 15, a signed exponent outside). So these functions are
//! `serde_json`'s, under a name that says which rule they keep; the property test against
//! the real pydantic (`crates/pulse/tests/python_hash.rs`) is what holds the two together.

use serde::Serialize;

/// Serializes `value` to the bytes pydantic's `model_dump_json()` would produce for it.
///
/// ```
/// let out = core_contracts::pydantic_json::to_pydantic_json(&serde_json::json!(
///     {"id": "störe-ü", "scale": 0.00005, "big": 1e16, "tiny": 1e-7, "n": 80}
/// ))?;
/// assert_eq!(
///     String::from_utf8(out)?,
///     r#"{"id":"störe-ü","scale":0.00005,"big":1e+16,"tiny":1e-7,"n":80}"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_pydantic_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(value)
}

/// [`to_pydantic_json`] as a `String` (the text is UTF-8 by construction).
pub fn to_pydantic_string<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    serde_json::to_string(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written<T: Serialize>(value: &T) -> String {
        String::from_utf8(to_pydantic_json(value).expect("serializes")).expect("utf-8")
    }

    /// Each pair is what pydantic 2.14 (pydantic-core 2.50) writes for the float on the left.
    #[test]
    fn floats_are_written_as_pydantic_writes_them() {
        let cases = [
            (0.00005, "0.00005"),
            (1e-7, "1e-7"),
            (1e-6, "1e-6"),
            (1.5e-300, "1.5e-300"),
            (1.5e-10, "1.5e-10"),
            (1e16, "1e+16"),
            (1e17, "1e+17"),
            (1e21, "1e+21"),
            (1.2345e20, "1.2345e+20"),
            (123_456_789_012_345_680_000.0, "1.2345678901234568e+20"),
            (1e300, "1e+300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (3e15, "3000000000000000.0"),
            (9_007_199_254_740_992.0, "9007199254740992.0"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (0.1, "0.1"),
            (1_729_234_567.123, "1729234567.123"),
            (-2.5e-8, "-2.5e-8"),
            (-4e18, "-4e+18"),
        ];
        for (value, expected) in cases {
            assert_eq!(written(&value), expected, "{value:e}");
        }
    }

    #[test]
    fn strings_keep_non_ascii_raw_and_escape_only_what_json_requires() {
        let text = "störe-ü\u{0}\u{1f}\u{7f}\u{2028}\u{d7ff}\u{1F600}\"\\/\t\n\r\u{8}\u{c}";
        assert_eq!(
            written(&serde_json::json!({"s": text, "n": 1})),
            "{\"s\":\"störe-ü\\u0000\\u001f\u{7f}\u{2028}\u{d7ff}\u{1F600}\\\"\\\\/\\t\\n\\r\\b\\f\",\"n\":1}"
        );
    }
}

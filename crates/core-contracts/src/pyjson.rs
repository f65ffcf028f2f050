//! JSON written exactly as Python's `json.dumps(obj, separators=(",", ":"))` writes it:
//! compact, floats in `repr` form, non-ASCII escaped as `\uXXXX` (`ensure_ascii`).

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};

/// Serializes `value` to the bytes Python's compact `json.dumps` would produce for it.
pub fn to_python_compact<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    value.serialize(&mut ser)?;
    Ok(out)
}

/// Python's `repr` of a finite float: shortest round-trip digits, fixed notation for decimal
/// exponents in `-4..16` (always with a fraction), scientific with a signed two-digit exponent
/// otherwise.
///
/// ```
/// use core_contracts::pyjson::python_float_repr;
/// assert_eq!(python_float_repr(100.0), "100.0");
/// assert_eq!(python_float_repr(1e16), "1e+16");
/// assert_eq!(python_float_repr(1.5e-7), "1.5e-07");
/// assert_eq!(python_float_repr(0.0001), "0.0001");
/// assert_eq!(python_float_repr(1729234567.123), "1729234567.123");
/// ```
pub fn python_float_repr(value: f64) -> String {
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        }
        .to_owned();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let sci = format!("{:e}", value.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let body = if (-4..16).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                format!("{digits}{}.0", "0".repeat(int_len - digits.len()))
            } else {
                format!("{}.{}", &digits[..int_len], &digits[int_len..])
            }
        } else {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        }
    } else {
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{exp_sign}{:02}", exp.abs())
    };
    format!("{sign}{body}")
}

/// A `serde_json` formatter that writes what Python's compact `json.dumps` writes.
#[derive(Debug, Clone, Copy, Default)]
pub struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        // Within Python's fixed-notation range, Rust's shortest round-trip `Display` writes
        // the same digits; Python adds `.0` to integral values.
        if (1e-4..1e16).contains(&value.abs()) {
            let mut buf = [0u8; 40];
            let mut rest = &mut buf[..];
            io::Write::write_fmt(&mut rest, format_args!("{value}"))?;
            let len = 40 - rest.len();
            let text = &buf[..len];
            writer.write_all(text)?;
            if !text.contains(&b'.') {
                writer.write_all(b".0")?;
            }
            return Ok(());
        }
        writer.write_all(python_float_repr(value).as_bytes())
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(writer, f64::from(value))
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if fragment.bytes().all(|b| b < 0x7f) {
            return CompactFormatter.write_string_fragment(writer, fragment);
        }
        let mut units = [0u16; 2];
        for c in fragment.chars() {
            if c.is_ascii() && c != '\x7f' {
                writer.write_all(&[c as u8])?;
            } else {
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_match_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e20, "1.2345e+20"),
            (0.00001, "1e-05"),
            (1.5e-300, "1.5e-300"),
            (1795343812.6251104, "1795343812.6251104"),
            (-0.0, "-0.0"),
        ];
        for (value, expected) in cases {
            assert_eq!(python_float_repr(value), expected, "repr of {value:e}");
        }
    }

    #[test]
    fn the_formatter_writes_what_python_float_repr_says() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let value = f64::from_bits(seed);
            if !value.is_finite() {
                continue;
            }
            let written =
                String::from_utf8(to_python_compact(&value).expect("serializes")).expect("ascii");
            assert_eq!(written, python_float_repr(value), "bits {seed:#x}");
        }
        for value in [
            1e-4,
            9.999e-5,
            1e16,
            9_999_999_999_999_998.0,
            123.0,
            0.5,
            1729234567.123,
        ] {
            let written =
                String::from_utf8(to_python_compact(&value).expect("serializes")).expect("ascii");
            assert_eq!(written, python_float_repr(value));
        }
    }

    #[test]
    fn strings_are_ascii_escaped_like_python() {
        let out =
            to_python_compact(&serde_json::json!({"s": "caf\u{e9} \u{1F600}\x7f\n\"", "n": 1}))
                .expect("serializes");
        assert_eq!(
            String::from_utf8(out).expect("ascii"),
            r#"{"s":"caf\u00e9 \ud83d\ude00\u007f\n\"","n":1}"#
        );
    }
}

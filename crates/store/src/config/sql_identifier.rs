//! Plain SQL identifiers: what `MDS_PG_SCHEMA` accepts and what the PostgreSQL sink quotes
//! into its statements.

/// Whether `name` is a plain SQL identifier: a letter or `_`, then letters, digits or `_`,
/// at most 63 bytes.
///
/// ```
/// use store::config::valid_identifier;
/// assert!(valid_identifier("mdp_test_1a2b"));
/// assert!(!valid_identifier("bad-name"));
/// assert!(!valid_identifier("1st"));
/// ```
pub fn valid_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok && name.len() <= 63 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

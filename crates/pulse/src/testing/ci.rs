//! The CI rule of every test that needs something from outside the process (a server, a
//! tool, the Python originals): [`in_ci`] tells whether the tests run under CI, [`skip`]
//! reports that a test cannot run. Under CI a skip is a failure; elsewhere it prints one
//! marker line that `scripts/test` collects into its summary of skipped tests, since libtest
//! has no "skipped" status of its own.

use std::io::Write as _;

/// The first words of the line a skipped test prints: `!!!! SKIPPING <test>: <why> !!!!`.
pub const SKIP_MARKER: &str = "!!!! SKIPPING";

/// Whether the tests run under CI: the environment variable `CI` is `true` (in any case)
/// or `1`, as CI services set it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| means_ci(&value))
}

/// Whether a value of `CI` means "under CI".
fn means_ci(value: &str) -> bool {
    value.eq_ignore_ascii_case("true") || value == "1"
}

/// Reports that the calling test cannot run because of `why` (what is missing, and how to
/// provide it), and that the test must return without checking anything.
///
/// Under CI ([`in_ci`]) this panics: a test may not pass there by skipping. Otherwise it
/// writes the marker line `!!!! SKIPPING <test>: <why> !!!!` straight to stderr (past
/// libtest's output capture, so it shows even when the test "passes"); `<test>` is the name
/// of the test's thread, which libtest names after the test.
#[track_caller]
pub fn skip(why: &str) {
    let test = test_name();
    assert!(
        !in_ci(),
        "{test} cannot run ({why}) and CI is set: a test may not skip under CI"
    );
    let _ = std::io::stderr().write_all(marker_line(&test, why).as_bytes());
}

/// The name of the running test (its thread's name), or `an unnamed test`.
fn test_name() -> String {
    std::thread::current()
        .name()
        .filter(|name| *name != "main")
        .unwrap_or("an unnamed test")
        .to_owned()
}

/// The marker line of a skip, on a line of its own: libtest may have written `test x ... `
/// without its newline yet.
fn marker_line(test: &str, why: &str) -> String {
    let why = why.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("\n{SKIP_MARKER} {test}: {why} !!!!\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn true_in_any_case_and_1_mean_ci() {
        for value in ["true", "TRUE", "True", "1"] {
            assert!(means_ci(value), "{value}");
        }
        for value in ["", "0", "false", "yes", " true", "2"] {
            assert!(!means_ci(value), "{value:?}");
        }
    }

    #[test]
    fn the_marker_line_names_the_test_on_one_line() {
        assert_eq!(
            marker_line("conformance::fan_out", "Redis is not\nreachable  at x"),
            "\n!!!! SKIPPING conformance::fan_out: Redis is not reachable at x !!!!\n"
        );
    }

    #[test]
    fn a_test_is_named_after_its_thread() {
        assert_eq!(
            test_name(),
            "testing::ci::tests::a_test_is_named_after_its_thread"
        );
    }
}

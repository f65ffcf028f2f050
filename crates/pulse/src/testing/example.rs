//! [`example_binary`]: the path of a crate's example program, for a test that runs it as a
//! process of its own (to kill it with SIGKILL, say).

use std::path::PathBuf;
use std::process::Command;

/// The example `name` of package `package`, built in the test's own target directory.
///
/// `cargo test` builds every example of the packages it tests, next to the test binaries
/// (`target/<profile>/examples/`), with the same features, so that binary is used. When it
/// is missing (a test run on its own with `--test`), it is built with `cargo build --example`
/// first.
pub fn example_binary(package: &str, name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary lives in target/<profile>/deps");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--locked", "-p", package, "--example", name])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cannot build example {name} of {package}");
    }
    assert!(path.exists(), "example {} not found", path.display());
    path
}

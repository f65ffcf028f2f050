//! [`example_binary`]: the path of a crate's example program, for a test that runs it as a
//! process of its own (to kill it with SIGKILL, say).

use std::path::{Path, PathBuf};

/// The example `name` of package `package` (its source in `examples/{name}.rs` of the
/// calling crate), as `cargo test` built it next to the test binaries
/// (`target/<profile>/examples/`), with the same features.
///
/// `cargo test` builds the examples of the packages it tests, but not when a single test
/// target is picked (`--test`): then this fails with the command to run, rather than start
/// a binary older than its source. Building it from here would use other features than
/// `cargo test` and rebuild half the dependency tree.
pub fn example_binary(package: &str, name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary lives in target/<profile>/deps");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let build = format!("cargo test -p {package} (or cargo build -p {package} --examples)");
    let built = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| panic!("example {} not built: run {build}", path.display()));
    let source = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default())
        .join("examples")
        .join(format!("{name}.rs"));
    if let Ok(written) = std::fs::metadata(&source).and_then(|m| m.modified()) {
        assert!(
            written <= built,
            "example {} is older than {}: run {build}",
            path.display(),
            source.display()
        );
    }
    path
}

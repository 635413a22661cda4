//! Finding (and building) the `cargo-revise` binary under test.
//!
//! Cargo sets `CARGO_BIN_EXE_<name>` only for tests of the package that owns the binary; these
//! tests live in their own package, so the binary is found next to the test executable
//! instead: `target/<profile>/deps/<test>` runs `target/<profile>/cargo-revise`.
//! `cargo test -p revise-tests` does not build other packages' binaries, so the first call
//! in each process runs `cargo build -p cargo-revise` into the same target folder and
//! profile. When the binary is already fresh (`cargo test --workspace`, or any run after the
//! first), that build is a no-op of a few tens of milliseconds; nextest runs every test in a
//! process of its own, so there it happens once per test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The path of a freshly built `cargo-revise`, built at most once per process.
///
/// Panics with cargo's own output when the build fails, because every test would fail anyway.
pub fn cargo_revise() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build)
}

fn build() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    let mut dir = exe.parent().expect("the test executable is in a folder");
    // Test executables sit in `<profile>/deps`; doc tests and examples may sit elsewhere.
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir = dir.parent().expect("`deps` has a parent");
    }
    let profile_dir = dir.to_owned();
    let profile_name = profile_dir
        .file_name()
        .and_then(|name| name.to_str())
        .expect("the profile folder has a UTF-8 name");
    // Cargo's `dev` and `test` profiles both build into `debug`.
    let profile = if profile_name == "debug" {
        "dev"
    } else {
        profile_name
    };
    let parent = profile_dir
        .parent()
        .expect("the profile folder has a parent");
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo.args([
        "build",
        "--quiet",
        "-p",
        "cargo-revise",
        "--bin",
        "cargo-revise",
    ]);
    cargo.args(["--profile", profile]);
    if cfg!(feature = "mysql") {
        cargo.args(["--features", "mysql"]);
    }
    // `target/` carries cargo's CACHEDIR.TAG; under `--target TRIPLE` the profile folder
    // is one level deeper, in `target/TRIPLE/`.
    if parent.join("CACHEDIR.TAG").exists() {
        cargo.arg("--target-dir").arg(parent);
    } else {
        let triple = parent.file_name().expect("a target triple folder");
        let target_dir = parent.parent().expect("the target folder");
        cargo.arg("--target").arg(triple);
        cargo.arg("--target-dir").arg(target_dir);
    }
    let repository_root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository");
    let output = cargo
        .current_dir(repository_root)
        .output()
        .expect("cargo can be started (is $CARGO or `cargo` on PATH?)");
    assert!(
        output.status.success(),
        "building cargo-revise failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let binary = profile_dir.join(format!("cargo-revise{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "cargo built cargo-revise, but it is not at {}",
        binary.display()
    );
    binary
}

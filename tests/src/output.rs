//! Reading what a run printed.

use assert_cmd::assert::Assert;

/// The captured output of a finished run, as text.
///
/// Implemented for `assert_cmd`'s [`Assert`], so a test can chain
/// `ws.run(["up"]).success().stdout_text()`.
pub trait Captured {
    /// Standard output, lossily decoded.
    fn stdout_text(&self) -> String;
    /// Standard error, lossily decoded.
    fn stderr_text(&self) -> String;
}

impl Captured for Assert {
    fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.get_output().stdout).into_owned()
    }

    fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.get_output().stderr).into_owned()
    }
}

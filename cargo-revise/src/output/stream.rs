//! Standard output and standard error, written so that no write panics or stops a command.
//!
//! `print!` panics when its output has gone away: a pipe whose reader has exited
//! (`cargo revise history | head -1`), a full disk, a closed terminal. Everything the CLI
//! prints goes through here instead. The first failed write to standard output is kept and
//! every later one is dropped, so a command carries on with its work (a run finishes its
//! revisions, each in its own transaction) and `main` chooses the exit status from what was
//! lost (see [`crate::cli::OutputRole`]). Standard error is written as well as it can be: a
//! failure there has nowhere left to be reported.

use std::io::{self, Write};
use std::sync::OnceLock;

/// The first write to standard output that failed, for the rest of the process.
static STDOUT_FAILURE: OnceLock<io::Error> = OnceLock::new();

/// Why standard output stopped taking what the command printed, if it did.
pub fn stdout_failure() -> Option<&'static io::Error> {
    STDOUT_FAILURE.get()
}

/// Writes `text` to standard output as it is, flushed, unless an earlier write failed.
pub fn write_stdout(text: &str) {
    write_all_stdout(|out| {
        out.write_all(text.as_bytes())?;
        out.flush()
    });
}

/// Writes `text` and a newline to standard output (see [`write_stdout`]).
pub fn stdout_line(text: &str) {
    write_all_stdout(|out| {
        writeln!(out, "{text}")?;
        out.flush()
    });
}

/// Writes many lines to standard output through one buffer: a system call per line cost
/// `history` of 10,000 revisions more than loading them.
pub fn stdout_lines<S: AsRef<str>>(lines: impl IntoIterator<Item = S>) {
    write_all_stdout(|out| {
        let mut buffered = io::BufWriter::new(out);
        for line in lines {
            writeln!(buffered, "{}", line.as_ref())?;
        }
        buffered.flush()
    });
}

/// Flushes standard output, so that a failure still pending in a buffer is seen before the
/// exit status is chosen.
pub fn flush_stdout() {
    write_all_stdout(|out| out.flush());
}

fn write_all_stdout(write: impl FnOnce(&mut io::StdoutLock<'static>) -> io::Result<()>) {
    if STDOUT_FAILURE.get().is_some() {
        return;
    }
    if let Err(error) = write(&mut io::stdout().lock()) {
        let _ = STDOUT_FAILURE.set(error);
    }
}

/// Writes `text` and a newline to standard error, ignoring a failure.
pub fn stderr_line(text: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{text}").and_then(|()| err.flush());
}

/// Writes `text` to standard error without a newline (a prompt), ignoring a failure.
pub fn stderr_prompt(text: &str) {
    let mut err = io::stderr().lock();
    let _ = write!(err, "{text}").and_then(|()| err.flush());
}

/// True when the failure means the reader went away: the shell's convention then is to stop
/// quietly (a closed pipe ends `ls | head -1` without a word).
pub fn reader_left(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::BrokenPipe
}

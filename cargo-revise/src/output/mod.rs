//! Everything the user sees: the printer (human or JSON, color, quiet), the run report with
//! its progress bar, and error diagnostics, all written through `stream`, which never
//! panics when the output has gone away.

pub mod diagnostic;
pub mod fleet;
pub mod progress;
pub mod run_json;
pub mod schema_diff;
pub mod stream;

use console::Term;

use crate::cli::{ColorChoice, GlobalArgs};

/// How output is written for this invocation.
#[derive(Clone, Debug)]
pub struct Printer {
    /// `--quiet`: errors only.
    pub quiet: bool,
    /// `-v` count.
    pub verbose: u8,
    /// Whether stdout is a terminal that can show emoji.
    pub emoji: bool,
    /// Whether a progress bar may be drawn.
    pub progress: bool,
}

impl Printer {
    /// Decides colors, emoji and progress from the flags and the terminal.
    pub fn new(global: &GlobalArgs) -> Self {
        match global.color {
            ColorChoice::Always => console::set_colors_enabled(true),
            ColorChoice::Never => console::set_colors_enabled(false),
            ColorChoice::Auto => {}
        }
        let stdout = Term::stdout();
        Self {
            quiet: global.quiet,
            verbose: global.verbose,
            emoji: stdout.features().wants_emoji(),
            progress: !global.quiet && stdout.is_term() && Term::stderr().is_term(),
        }
    }

    /// Prints a line of the command's result (suppressed by `--quiet`).
    pub fn line(&self, text: impl AsRef<str>) {
        if !self.quiet {
            stream::stdout_line(text.as_ref());
        }
    }

    /// Prints many lines of a result (suppressed by `--quiet`) through one buffer.
    pub fn lines<S: AsRef<str>>(&self, lines: impl IntoIterator<Item = S>) {
        if !self.quiet {
            stream::stdout_lines(lines);
        }
    }

    /// Prints a JSON document (never suppressed: a script asked for it).
    pub fn json(&self, value: &serde_json::Value) {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
        stream::stdout_line(&text);
    }

    /// Prints text as it is, such as a `--sql` script (never suppressed: it is the result).
    pub fn text(&self, text: &str) {
        stream::write_stdout(text);
    }

    /// Prints `warning: TEXT` on standard error (never suppressed).
    pub fn warning(&self, text: impl AsRef<str>) {
        stream::stderr_line(&format!(
            "{} {}",
            console::style("warning:").yellow().bold(),
            text.as_ref()
        ));
    }
}

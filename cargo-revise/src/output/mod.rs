//! Everything the user sees: the printer (human or JSON, color, quiet), the run report with
//! its progress bar, and error diagnostics.

pub mod diagnostic;
pub mod progress;
pub mod schema_diff;

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
            println!("{}", text.as_ref());
        }
    }

    /// Prints many lines of a result (suppressed by `--quiet`) through one buffer: `println!`
    /// writes each line with its own system call, which at 10,000 lines of `history` cost
    /// more than loading the revisions. A closed pipe (`| head`) ends the output quietly.
    pub fn lines<S: AsRef<str>>(&self, lines: impl IntoIterator<Item = S>) {
        use std::io::Write;
        if self.quiet {
            return;
        }
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for line in lines {
            if writeln!(out, "{}", line.as_ref()).is_err() {
                return;
            }
        }
        let _ = out.flush();
    }

    /// Prints a JSON document (never suppressed: a script asked for it).
    pub fn json(&self, value: &serde_json::Value) {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into())
        );
    }
}

//! The run report on a terminal: the runtime's plain report lines, plus an indicatif bar while
//! revisions apply (hidden when output is not a terminal or with `--quiet`).

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use revise_runtime::report::{PlainReport, Reporter, RunEvent};

use super::Printer;

/// A [`Reporter`] that prints the status report and drives a progress bar.
pub struct TerminalReport {
    lines: PlainReport<std::io::Sink>,
    quiet: bool,
    show_bar: bool,
    bar: Option<ProgressBar>,
}

impl TerminalReport {
    /// A report following the printer's settings.
    pub fn new(printer: &Printer) -> Self {
        Self {
            lines: PlainReport::new(std::io::sink(), printer.emoji),
            quiet: printer.quiet,
            show_bar: printer.progress,
            bar: None,
        }
    }

    fn print(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => super::stream::stdout_line(line),
        }
    }

    fn start_bar(&mut self, total: usize) {
        if !self.show_bar {
            return;
        }
        let bar = ProgressBar::new(total as u64);
        let style = ProgressStyle::with_template(
            "   {spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(100));
        self.bar = Some(bar);
    }

    fn finish_bar(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Reporter for TerminalReport {
    fn report(&mut self, event: &RunEvent) {
        if self.quiet {
            return;
        }
        match event {
            RunEvent::StepStarted { revision, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("{} - {}", revision.id, revision.message));
                }
            }
            RunEvent::StepFinished { .. } => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            RunEvent::Replanned { remaining, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_length(bar.position() + *remaining as u64);
                }
            }
            RunEvent::Completed { .. } | RunEvent::Failed { .. } => self.finish_bar(),
            _ => {}
        }
        for line in self.lines.lines(event) {
            self.print(&line);
        }
        if let RunEvent::Pending { revisions, .. } = event {
            self.start_bar(revisions.len());
        }
    }
}

impl Drop for TerminalReport {
    fn drop(&mut self) {
        self.finish_bar();
    }
}

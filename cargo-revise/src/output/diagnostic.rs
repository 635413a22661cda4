//! Errors as cargo shows them: `error: ...`, then `--> path:line` with the line itself (or
//! the first lines of a failed statement, with a caret where the database points), then
//! `= ...` notes.

use std::path::Path;

use console::style;
use revise_runtime::failure::FailedStatement;

use crate::error::{CliError, Problem};

/// How many lines of a failed statement are shown.
const STATEMENT_LINES: usize = 4;

/// How many characters of a line are shown.
const LINE_WIDTH: usize = 120;

/// Writes `error` to standard error. `root` resolves relative paths to show the line.
pub fn print_error(error: &CliError, root: Option<&Path>) {
    for problem in &error.problems {
        super::stream::stderr_line(&render_problem(problem, root));
    }
    if let Some(hint) = &error.hint {
        super::stream::stderr_line(&format!("{} {hint}", style("help:").cyan().bold()));
    }
}

fn render_problem(problem: &Problem, root: Option<&Path>) -> String {
    let mut out = format!("{} {}", style("error:").red().bold(), problem.message);
    let excerpt = problem.location.as_ref().map_or_else(Vec::new, |location| {
        match (&location.statement, location.line) {
            (Some(statement), _) => statement_excerpt(statement),
            (None, Some(line)) => source_line(root, &location.path, line)
                .map(|text| vec![Excerpt::Line(line, text)])
                .unwrap_or_default(),
            (None, None) => Vec::new(),
        }
    });
    let width = excerpt
        .iter()
        .map(|e| match e {
            Excerpt::Line(n, _) => n.to_string().len(),
            _ => 1,
        })
        .max()
        .unwrap_or(1);
    let pad = " ".repeat(width);
    let bar = style("|").blue();
    if let Some(location) = &problem.location {
        let place = match location.line {
            Some(line) => format!("{}:{line}", location.path.display()),
            None => location.path.display().to_string(),
        };
        out.push_str(&format!("\n{pad}{} {place}", style("-->").blue()));
    }
    if !excerpt.is_empty() {
        out.push_str(&format!("\n{pad} {bar}"));
        for line in &excerpt {
            out.push('\n');
            out.push_str(&match line {
                Excerpt::Line(number, text) => format!("{number:>width$} {bar} {text}"),
                Excerpt::Caret(column) => format!(
                    "{pad} {bar} {}{}",
                    " ".repeat(column.saturating_sub(1)),
                    style("^").red().bold()
                ),
                Excerpt::Gap => format!("{pad} {bar} ..."),
            });
        }
        out.push_str(&format!("\n{pad} {bar}"));
    }
    for note in &problem.notes {
        out.push_str(&format!("\n{pad} {} {note}", style("=").blue()));
    }
    out
}

/// One line under `-->`.
#[derive(Debug, PartialEq, Eq)]
enum Excerpt {
    /// A numbered line of the file.
    Line(usize, String),
    /// A caret under this column (from 1) of the line above.
    Caret(usize),
    /// Lines left out.
    Gap,
}

/// The statement's first lines; the line the database points at, with a caret, even when
/// it lies further down.
fn statement_excerpt(statement: &FailedStatement) -> Vec<Excerpt> {
    let at = statement.error_at;
    let mut lines = Vec::new();
    for (number, text) in statement.first_lines(STATEMENT_LINES) {
        lines.push(Excerpt::Line(number, shown(text)));
        if let Some(at) = at.filter(|at| at.line == number) {
            lines.push(Excerpt::Caret(at.column));
        }
    }
    let last_shown = statement.line + STATEMENT_LINES.min(statement.line_count()) - 1;
    if let Some(at) = at.filter(|at| at.line > last_shown) {
        if at.line > last_shown + 1 {
            lines.push(Excerpt::Gap);
        }
        if let Some(text) = statement.line_text(at.line) {
            lines.push(Excerpt::Line(at.line, shown(text)));
            lines.push(Excerpt::Caret(at.column));
        }
    }
    let last_line = statement.line + statement.line_count() - 1;
    let last_listed = lines
        .iter()
        .rev()
        .find_map(|l| match l {
            Excerpt::Line(n, _) => Some(*n),
            _ => None,
        })
        .unwrap_or(last_line);
    if last_listed < last_line {
        lines.push(Excerpt::Gap);
    }
    lines
}

/// A line as shown: tabs as one space each (so a caret's column stays right), cut to
/// [`LINE_WIDTH`] characters.
fn shown(line: &str) -> String {
    line.trim_end_matches('\r')
        .chars()
        .take(LINE_WIDTH)
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect()
}

/// The text of one line of a file, when it can be read as text.
fn source_line(root: Option<&Path>, path: &Path, line: usize) -> Option<String> {
    let full = match root {
        Some(root) if path.is_relative() => root.join(path),
        _ => path.to_owned(),
    };
    let bytes = std::fs::read(full).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let line = text.split('\n').nth(line.checked_sub(1)?)?;
    Some(shown(line))
}

#[cfg(test)]
mod tests {
    use revise_runtime::failure::TextPosition;

    use super::*;

    fn statement(text: &str, error_at: Option<(usize, usize)>) -> FailedStatement {
        FailedStatement {
            number: 3,
            count: 10,
            line: 20,
            text: text.to_owned(),
            error_at: error_at.map(|(line, column)| TextPosition { line, column }),
        }
    }

    fn numbers(excerpt: &[Excerpt]) -> Vec<String> {
        excerpt
            .iter()
            .map(|e| match e {
                Excerpt::Line(n, _) => n.to_string(),
                Excerpt::Caret(c) => format!("^{c}"),
                Excerpt::Gap => "...".to_owned(),
            })
            .collect()
    }

    #[test]
    fn a_short_statement_is_shown_whole_with_the_caret_under_its_line() {
        let excerpt = statement_excerpt(&statement("SELECT *\nFROM (SELECT 1)", Some((21, 6))));
        assert_eq!(numbers(&excerpt), ["20", "21", "^6"]);
    }

    #[test]
    fn a_long_statement_shows_its_first_lines_and_the_line_pointed_at() {
        let text = (1..=10)
            .map(|i| format!("line {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let excerpt = statement_excerpt(&statement(&text, Some((27, 2))));
        assert_eq!(
            numbers(&excerpt),
            ["20", "21", "22", "23", "...", "27", "^2", "..."]
        );
        let excerpt = statement_excerpt(&statement(&text, None));
        assert_eq!(numbers(&excerpt), ["20", "21", "22", "23", "..."]);
        let excerpt = statement_excerpt(&statement(&text, Some((24, 1))));
        assert_eq!(
            numbers(&excerpt),
            ["20", "21", "22", "23", "24", "^1", "..."]
        );
    }

    #[test]
    fn the_rendered_problem_points_at_the_statement() {
        console::set_colors_enabled(false);
        let problem = Problem {
            message: "revision u3 failed while upgrading (statement 3 of 10): boom".to_owned(),
            location: Some(crate::error::Location {
                path: "users/migrations/u3.sql".into(),
                line: Some(20),
                statement: Some(statement("INSERT INTO t\nVALUES (x)", Some((21, 9)))),
            }),
            notes: vec!["hint: try y".to_owned()],
        };
        assert_eq!(
            render_problem(&problem, None),
            "error: revision u3 failed while upgrading (statement 3 of 10): boom\n  --> users/migrations/u3.sql:20\n   |\n20 | INSERT INTO t\n21 | VALUES (x)\n   |         ^\n   |\n   = hint: try y"
        );
    }
}

//! Errors as cargo shows them: `error: ...`, then `--> path:line` with the line itself.

use std::path::Path;

use console::style;

use crate::error::{CliError, Problem};

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
    let Some(location) = &problem.location else {
        return out;
    };
    match location.line {
        Some(line) => out.push_str(&format!(
            "\n  {} {}:{line}",
            style("-->").blue(),
            location.path.display()
        )),
        None => out.push_str(&format!(
            "\n  {} {}",
            style("-->").blue(),
            location.path.display()
        )),
    }
    if let Some(text) = location
        .line
        .and_then(|line| source_line(root, &location.path, line))
    {
        let number = location.line.unwrap_or(0).to_string();
        let pad = " ".repeat(number.len());
        out.push_str(&format!(
            "\n {pad} {bar}\n {number} {bar} {text}\n {pad} {bar}",
            bar = style("|").blue()
        ));
    }
    out
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
    let line = line.trim_end_matches('\r');
    let shown: String = line.chars().take(120).collect();
    Some(shown)
}

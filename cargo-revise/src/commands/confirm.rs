//! Asking before something that cannot be undone: on a terminal, a question answered `y` or
//! `yes`; without one, a refusal that names the flag a script must pass.

use std::io::{BufRead, IsTerminal};

use crate::error::CliError;

/// Why the answer was not yes.
pub enum Refused {
    /// Standard input is not a terminal: the error to return (bad usage, exit 2).
    NotATerminal(CliError),
    /// Someone answered, and not with `y`.
    Declined,
}

/// Asks `question` on standard error and reads the answer from standard input. Without a
/// terminal, refuses with `refusal` and `hint` (the flag that says yes).
pub fn ask(question: &str, refusal: &str, hint: &str) -> Result<(), Refused> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Refused::NotATerminal(
            CliError::bad_input(format!(
                "{refusal} without confirmation: standard input is not a terminal"
            ))
            .with_hint(hint),
        ));
    }
    crate::output::stream::stderr_prompt(question);
    let mut answer = String::new();
    // An unreadable answer is a no.
    let _ = stdin.lock().read_line(&mut answer);
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(Refused::Declined),
    }
}

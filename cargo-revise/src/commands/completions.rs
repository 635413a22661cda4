//! `cargo revise completions SHELL`: the shell's completion script, generated from the clap
//! definitions by `clap_complete`, so it never falls behind the commands.
//!
//! The script completes `cargo-revise`. bash (bash-completion 2.12 or later) and zsh hand
//! `cargo revise ...` to it through cargo's own completion; fish has no such hand-over, so
//! its script gets a few lines that register `cargo revise` as well.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionsArgs};

/// The name the scripts complete.
const BIN_NAME: &str = "cargo-revise";

/// The prefix clap_complete gives the bash case labels of subcommands, and the one its
/// dispatch looks for.
const BASH_MISNAMED: &str = "cargo__subcmd__revise__subcmd__";
const BASH_NAME: &str = "cargo__revise__subcmd__";

/// Lets fish complete `cargo revise ...` by completing the same line as `cargo-revise ...`.
const FISH_CARGO_HAND_OVER: &str = r#"
# `cargo revise ...`: complete the rest of the line as `cargo-revise ...`.
function __cargo_revise_complete_as_binary
    set -l tokens (commandline -opc)
    set -e tokens[1..2]
    complete -C "cargo-revise $tokens "(commandline -ct)
end
complete -c cargo -n "__fish_seen_subcommand_from revise" -f -a "(__cargo_revise_complete_as_binary)"
"#;

/// Prints the script for `args.shell`. A closed output ends quietly.
pub fn run(args: &CompletionsArgs) {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), BIN_NAME, &mut script);
    match args.shell {
        // clap_complete 4.6 names the case labels of subcommands by turning every `-` of
        // `cargo-revise database` into its separator, and the dispatch by turning only the
        // binary's `-` into `__`: the two must agree, or nothing past the first word
        // completes (tests/tests/completions.rs runs the script in bash).
        Shell::Bash => {
            let text = String::from_utf8_lossy(&script).replace(BASH_MISNAMED, BASH_NAME);
            script = text.into_bytes();
        }
        Shell::Fish => script.extend_from_slice(FISH_CARGO_HAND_OVER.as_bytes()),
        _ => {}
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(&script).and_then(|()| stdout.flush());
}

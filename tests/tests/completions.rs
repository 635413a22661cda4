//! `cargo revise completions SHELL`: each shell's script is written, outside any workspace,
//! for both ways of calling the command, and names every subcommand; the bash script is run
//! in bash to check that it completes past the first word.

use std::process::Command;

use revise_tests::{cargo_revise, Captured};

const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "powershell", "elvish"];

const SUBCOMMANDS: [&str; 8] = [
    "database",
    "up",
    "down",
    "history",
    "stamp",
    "check",
    "completions",
    "import",
];

/// The script for `shell`, from a folder that is not a Cargo workspace; `prefix` is what
/// comes before `completions` (cargo runs `cargo-revise revise ...` for `cargo revise ...`).
fn script(shell: &str, prefix: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("a temporary folder");
    assert_cmd::Command::new(cargo_revise())
        .current_dir(dir.path())
        .args(prefix)
        .args(["completions", shell])
        .assert()
        .success()
        .stdout_text()
}

#[test]
fn every_shell_gets_a_script_naming_the_subcommands() {
    for shell in SHELLS {
        let direct = script(shell, &[]);
        let through_cargo = script(shell, &["revise"]);

        assert_eq!(direct, through_cargo, "{shell}");
        assert!(direct.contains("cargo-revise"), "{shell}: {direct}");
        for subcommand in SUBCOMMANDS {
            assert!(
                direct.contains(subcommand),
                "{shell}: the script does not mention `{subcommand}`"
            );
        }
        // fish spells a long flag `-l format`, the others `--format`.
        for flag in ["format", "yes", "lock-timeout"] {
            assert!(direct.contains(flag), "{shell}: no `--{flag}`");
        }
    }
}

#[test]
fn fish_also_completes_cargo_revise() {
    let fish = script("fish", &[]);

    assert!(
        fish.contains("complete -c cargo -n \"__fish_seen_subcommand_from revise\""),
        "{fish}"
    );
}

#[test]
fn bash_completes_subcommands_and_their_flags() {
    let script = script("bash", &[]);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("cargo-revise.bash");
    std::fs::write(&path, &script).expect("write the script");
    // COMP_WORDS as bash fills it, then the function `complete -F` registered.
    let complete = |words: &[&str]| {
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let program = format!(
            "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\n\
             _cargo__revise cargo-revise '{}' '{}'\necho \"${{COMPREPLY[*]}}\"",
            path.display(),
            quoted.join(" "),
            words.len() - 1,
            words[words.len() - 1],
            words[words.len() - 2],
        );
        let output = Command::new("bash")
            .args(["--norc", "-c", &program])
            .output()
            .expect("bash runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };

    assert_eq!(complete(&["cargo-revise", "data"]), "database");
    let actions = complete(&["cargo-revise", "database", ""]);
    for action in ["create", "drop", "reset", "setup"] {
        assert!(actions.split(' ').any(|a| a == action), "{actions}");
    }
    assert!(
        complete(&["cargo-revise", "database", "drop", "--y"]).contains("--yes"),
        "drop's flags"
    );
    assert_eq!(complete(&["cargo-revise", "up", "--for"]), "--format");
}

//! Embeds every member's revision files into the binary; a bad file fails the build with its
//! path and line, and editing, adding or removing a file rebuilds.

fn main() {
    if let Err(error) = revise_runtime::build::embed_workspace() {
        panic!("{error}");
    }
}

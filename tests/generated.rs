//! `completions/` and `man/` are generated from the clap definitions and
//! checked in. This test fails when they are stale; run it with
//! `CHAINS_UPDATE_GENERATED=1` to rewrite them.

use std::path::Path;

use chains::cli::{self, Shell};

fn check(path: &Path, want: &[u8], stale: &mut Vec<String>) {
    if std::env::var_os("CHAINS_UPDATE_GENERATED").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, want).unwrap();
        return;
    }
    if std::fs::read(path).ok().as_deref() != Some(want) {
        stale.push(path.display().to_string());
    }
}

#[test]
fn completions_and_man_pages_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for shell in Shell::ALL {
        check(
            &root.join("completions").join(shell.file_name()),
            &cli::completion(shell),
            &mut stale,
        );
    }
    let pages = cli::man_pages();
    assert!(pages.iter().any(|(n, _)| n == "chains-attest.1"));
    for (name, roff) in pages {
        check(&root.join("man").join(name), &roff, &mut stale);
    }
    assert!(
        stale.is_empty(),
        "stale generated files (regenerate with CHAINS_UPDATE_GENERATED=1 cargo test --test integration generated::): {stale:?}"
    );
}

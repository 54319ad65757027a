use std::process::ExitCode;

use clap::Parser;

use chains::attest::{self, Outcome};
use chains::cli::{Cli, Command};
use chains::pipeline::{SignersError, StorageSetupError};
use chains::report::report;

// glibc's malloc spent a quarter of attest's CPU time in allocation and free
// across rayon's threads; mimalloc's per-thread heaps cut that (see README,
// Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc v3's `mi_option_purge_delay`: libmimalloc-sys has no constant
/// for it, so its place in mimalloc.h's `mi_option_e`, checked by a test
/// against its documented default.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// A controller runs for days, and its peak RSS is what the cluster pays
/// for. mimalloc keeps freed pages for 1 s (arenas 10 s) before giving them
/// back, so the pages of one list of signed runs were still held while the
/// next arrived: `benches/watch.rs` with 30,000 signed runs peaked at
/// 42 MiB, and 29 MiB purging at once (the controller's CPU is a few
/// percent of the API server's). attest keeps the delay: it is short-lived
/// and reuses those pages at once.
fn purge_freed_memory_at_once() {
    // SAFETY: sets one of mimalloc's options (an integer in its option
    // table); called before the controller starts any thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}

fn main() -> ExitCode {
    install_diagnostic_handler();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    chains::report::set_verbose(cli.verbose);
    match cli.command {
        Command::Attest(args) => match attest::run(&args, cli.quiet) {
            Ok(Outcome::Success) => ExitCode::SUCCESS,
            Ok(Outcome::BadInput) => ExitCode::from(2),
            Ok(Outcome::Failed) => ExitCode::from(1),
            Err(e) => {
                // Usage and input problems are 2; a key that cannot be loaded
                // or a KMS that refuses is 1.
                let code = match &e {
                    attest::AttestError::Config(_)
                    | attest::AttestError::Usage(_)
                    | attest::AttestError::Input(_)
                    | attest::AttestError::Signers(SignersError::NoKey)
                    | attest::AttestError::Storage(
                        StorageSetupError::Unsupported { .. }
                        | StorageSetupError::TektonNeedsOutput
                        | StorageSetupError::FilesNeedsOutput
                        | StorageSetupError::GcsBucket,
                    ) => 2,
                    attest::AttestError::Signers(_)
                    | attest::AttestError::Storage(_)
                    | attest::AttestError::OutputFile { .. }
                    | attest::AttestError::OutputDir { .. } => 1,
                };
                report(e);
                ExitCode::from(code)
            }
        },
        Command::GenerateKeyPair(args) => match chains::keys::generate_key_pair(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                report(e);
                ExitCode::from(1)
            }
        },
        Command::Watch(args) => {
            purge_freed_memory_at_once();
            match chains::watch::run(&args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    report(e);
                    ExitCode::from(1)
                }
            }
        }
        Command::Verify(args) => match chains::verify::run(&args, cli.quiet) {
            Ok(chains::verify::Outcome::Verified) => ExitCode::SUCCESS,
            Ok(chains::verify::Outcome::Rejected) => ExitCode::from(1),
            Ok(chains::verify::Outcome::BadInput) => ExitCode::from(2),
            Err(e) => {
                let code = e.exit_code();
                report(e);
                ExitCode::from(code)
            }
        },
        Command::Payload(args) => stored(&args, chains::annotations::Part::Payload),
        Command::Signature(args) => stored(&args, chains::annotations::Part::Signature),
        Command::Completions { shell } => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            match out
                .write_all(&chains::cli::completion(shell))
                .and_then(|()| out.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot write the completions to standard output: {e}");
                    ExitCode::from(1)
                }
            }
        }
    }
}

/// `chains payload` / `chains signature`.
fn stored(args: &chains::cli::StoredArgs, part: chains::annotations::Part) -> ExitCode {
    match chains::stored::run(args, part) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = e.exit_code();
            report(e);
            ExitCode::from(code)
        }
    }
}

/// Diagnostics wrap to the terminal; in logs and pipes each stays on its lines
/// unwrapped, so it can be searched.
fn install_diagnostic_handler() {
    use std::io::IsTerminal;
    let terminal = std::io::stderr().is_terminal();
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .terminal_links(false)
                .wrap_lines(terminal)
                .build(),
        )
    }));
}

#[cfg(test)]
mod tests {
    /// The option index names the purge delay: mimalloc documents its
    /// default as 1,000 ms, which no neighbouring option has. Skipped when
    /// the environment sets it.
    #[test]
    fn the_purge_delay_option_is_where_we_set_it() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            eprintln!("skipped: MIMALLOC_PURGE_DELAY is set");
            return;
        }
        // SAFETY: reads one of mimalloc's options.
        let delay = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(delay, 1000);
    }
}

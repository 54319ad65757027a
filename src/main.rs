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
        Command::Watch(args) => match chains::watch::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                report(e);
                ExitCode::from(1)
            }
        },
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

use std::process::ExitCode;

use clap::Parser;

use chains::attest::{self, Outcome};
use chains::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Attest(args) => match attest::run(&args, cli.quiet) {
            Ok(Outcome::Success) => ExitCode::SUCCESS,
            Ok(Outcome::BadInput) => ExitCode::from(2),
            Ok(Outcome::Failed) => ExitCode::from(1),
            Err(e) => {
                let code = match &e {
                    attest::AttestError::Config(_) | attest::AttestError::Input(_) | attest::AttestError::NoKey => 2,
                    attest::AttestError::OutputDir { .. } => 1,
                };
                attest::report(e);
                ExitCode::from(code)
            }
        },
        Command::Completions { shell } => {
            use std::io::Write;
            let _ = std::io::stdout().write_all(&chains::cli::completion(shell));
            ExitCode::SUCCESS
        }
    }
}

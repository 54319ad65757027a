//! Printing diagnostics, shared by every command: one miette report per
//! problem on stderr.

use miette::Diagnostic;

/// Print a diagnostic to stderr with miette's handler.
pub fn report(e: impl Diagnostic + Send + Sync + 'static) {
    eprintln!("{:?}", miette::Report::new(e));
}

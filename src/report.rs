//! Printing diagnostics, shared by every command: one miette report per
//! problem on stderr, and `--verbose`'s notes.

use miette::Diagnostic;

/// Print a diagnostic to stderr with miette's handler.
pub fn report(e: impl Diagnostic + Send + Sync + 'static) {
    eprintln!("{:?}", miette::Report::new(e));
}

static VERBOSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `-v, --verbose`: [`debug`] prints from now on.
pub fn set_verbose(on: bool) {
    VERBOSE.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// A note for `--verbose` on stderr: where something came from. Never a
/// secret: callers name sources, not values. `message` is only built when
/// it is printed.
pub fn debug(message: impl FnOnce() -> String) {
    if VERBOSE.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("debug: {}", message());
    }
}

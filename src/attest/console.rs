//! What attest shows on stderr while it works: warnings and errors, and on a
//! terminal a progress line below them. With a known total (two or more
//! input files) it is a bar with a percentage and an ETA, measured in input
//! bytes read; on a stream, a plain count. Messages are printed above the
//! line, never into it. Nothing but messages in CI, in pipes or with
//! `--quiet`.

use std::io::{self, IsTerminal};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use miette::Diagnostic;

use crate::run::read::Source;

pub struct Console {
    quiet: bool,
    bar: Option<ProgressBar>,
    started: Instant,
    runs: AtomicU64,
}

impl Console {
    /// Messages only; [`Console::start`] adds the progress line.
    pub fn new(quiet: bool) -> Console {
        Console {
            quiet,
            bar: None,
            started: Instant::now(),
            runs: AtomicU64::new(0),
        }
    }

    /// Show progress from here on (after any password prompt, which a
    /// redrawn line would garble), on a terminal only.
    pub fn start(&mut self, sources: &[Source]) {
        let show = !self.quiet && io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        if !show {
            return;
        }
        let files = sources.iter().all(|s| matches!(s, Source::File(_)));
        let (bar, template) = if files && sources.len() > 1 {
            let total = sources
                .iter()
                .filter_map(|s| match s {
                    Source::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
                    Source::Stdin => None,
                })
                .sum();
            (
                ProgressBar::new(total),
                "{bar:30} {percent:>3}% {msg}, about {eta} left",
            )
        } else {
            (ProgressBar::new_spinner(), "{spinner} {msg}")
        };
        bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message("0 runs attested");
        bar.enable_steady_tick(Duration::from_millis(200));
        self.started = Instant::now();
        self.bar = Some(bar);
    }

    /// A handle for the reader to advance the bar by the bytes of each file
    /// it opens (`None`: nothing is shown).
    pub fn reading(&self) -> Option<ProgressBar> {
        self.bar.clone().filter(|b| b.length().is_some())
    }

    /// Count a run written out.
    pub fn tick(&self) {
        let n = self.runs.fetch_add(1, Ordering::Relaxed) + 1;
        let Some(bar) = &self.bar else { return };
        if n % 16 == 1 {
            let secs = self.started.elapsed().as_secs_f64();
            let rate = match secs > 0.5 {
                true => format!(" ({:.0} runs/s)", n as f64 / secs),
                false => String::new(),
            };
            bar.set_message(format!("{n} runs attested{rate}"));
        }
    }

    /// A warning, above the progress line (nothing with `--quiet`).
    pub fn warn(&self, msg: &str) {
        if !self.quiet {
            self.above(|| eprintln!("warning: {msg}"));
        }
    }

    /// An error, above the progress line (also with `--quiet`).
    pub fn error(&self, e: impl Diagnostic + Send + Sync + 'static) {
        self.above(|| crate::report::report(e));
    }

    /// A line of the final summary (nothing with `--quiet`).
    pub fn summary(&self, line: &str) {
        if !self.quiet {
            self.above(|| eprintln!("{line}"));
        }
    }

    fn above(&self, print: impl FnOnce()) {
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

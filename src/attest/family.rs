//! PipelineRuns and their children in a streamed batch.
//!
//! A TaskRun is attested as soon as it is decoded; if it may be a
//! PipelineRun's child, its source object is kept in a
//! [`ChildStore`](crate::run::group::ChildStore) (on disk, not in memory).
//! A PipelineRun waits until every child its `status.childReferences` names
//! has been read (at once, in kubectl's order of TaskRuns before
//! PipelineRuns), or, when it names none or some are never read, until the
//! end of the input; then its children are read back and it is attested.
//! Until then it is kept in the child store's file too, and its place in the
//! output holds later results back (on stdout only; see `Ordered`).

use std::collections::HashSet;

use rayon::prelude::*;

use crate::pipeline::{Attested, Stages};
use crate::run::group::{self, ChildStore, KeptRun};
use crate::run::read::InputError;
use crate::run::{Run, escape_controls};

/// A waiting PipelineRun: in memory when its children are all read (it is
/// attested with this chunk), else in the child store's file.
enum Held {
    Whole(Box<Run>),
    Kept(KeptRun),
}

/// A PipelineRun waiting for its children, with its place in the output.
struct Waiting {
    run: Held,
    seq: usize,
    /// Links of the children its childReferences name.
    children: Vec<u64>,
}

/// A PipelineRun's result, with a warning to print (`--allow-missing-children`).
pub type PipelineResult = (usize, Attested, Option<String>);

pub struct Families {
    pub store: ChildStore,
    waiting: Vec<Waiting>,
    /// Children named by PipelineRuns read so far: a TaskRun named there is
    /// kept even when it does not link to its parent itself.
    listed: HashSet<u64>,
    /// PipelineRuns read so far.
    pub pipelines: usize,
    allow_missing_children: bool,
}

impl Families {
    pub fn new(allow_missing_children: bool) -> Families {
        Families {
            store: ChildStore::default(),
            waiting: Vec::new(),
            listed: HashSet::new(),
            pipelines: 0,
            allow_missing_children,
        }
    }

    /// Whether a TaskRun that does not link to a parent itself must be kept.
    pub fn named_by_a_parent(&self, run: &Run) -> bool {
        group::may_be_child(run, &self.listed)
    }

    /// A PipelineRun to attest once its children are read.
    pub fn wait(&mut self, run: Run, seq: usize) {
        self.pipelines += 1;
        let children = group::listed_child_links(&run);
        self.listed.extend(&children);
        // One whose children are to come waits on disk, not in memory
        // (when the file cannot be written, in memory).
        let run = match self.complete(&children) {
            true => Held::Whole(Box::new(run)),
            false => match self.store.keep_run(&run) {
                Ok(kept) => Held::Kept(kept),
                Err(_) => Held::Whole(Box::new(run)),
            },
        };
        self.waiting.push(Waiting { run, seq, children });
    }

    /// Whether every named child has been read, and nothing else can join.
    fn complete(&self, children: &[u64]) -> bool {
        !self.store.has_unlinked_context()
            && !children.is_empty()
            && children.iter().all(|&c| self.store.has(c))
    }

    /// Attest the PipelineRuns whose named children have all been read (all
    /// of them at the end of the input).
    pub fn attest_ready(&mut self, stages: &Stages, end: bool) -> Vec<PipelineResult> {
        let (ready, waiting): (Vec<Waiting>, Vec<Waiting>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|w| end || self.complete(&w.children));
        self.waiting = waiting;
        if ready.is_empty() {
            return Vec::new();
        }
        if let Err(source) = self.store.flush() {
            let e = || InputError::Io {
                path: "the temporary file holding child TaskRuns".into(),
                source: std::io::Error::new(source.kind(), source.to_string()),
            };
            return ready
                .into_iter()
                .map(|w| (w.seq, Err(e().into()), None))
                .collect();
        }
        let only_pipeline = end && self.pipelines == 1;
        let this = &*self;
        ready
            .into_par_iter()
            .map(|w| {
                let run = match w.run {
                    Held::Whole(run) => *run,
                    Held::Kept(kept) => match this.store.read_run(&kept) {
                        Ok(run) => run,
                        Err(e) => return (w.seq, Err(e.into()), None),
                    },
                };
                let (result, warning) = this.attest(stages, &run, only_pipeline);
                (w.seq, result, warning)
            })
            .collect()
    }

    fn attest(
        &self,
        stages: &Stages,
        run: &Run,
        only_pipeline: bool,
    ) -> (Attested, Option<String>) {
        let kids = match self.store.children_of(run, only_pipeline) {
            Ok(kids) => kids,
            Err(e) => return (Err(e.into()), None),
        };
        let mut warning = None;
        let missing = missing_children(run, &kids);
        if !missing.is_empty() {
            let e = InputError::MissingChildren {
                origin: run.origin.clone(),
                label: run.label_after_origin(),
                missing,
            };
            if !self.allow_missing_children {
                return (Err(e.into()), None);
            }
            warning = Some(format!("{e}; attested from the children that are there"));
        }
        let refs: Vec<&Run> = kids.iter().collect();
        (stages.attest(run, &refs), warning)
    }
}

/// The TaskRuns a PipelineRun's childReferences name that are not among its
/// children, for a message (at most ten named).
fn missing_children(pipeline: &Run, kids: &[Run]) -> String {
    let found: HashSet<(&str, &str)> = kids
        .iter()
        .map(|k| (k.meta().namespace(), k.meta().name()))
        .collect();
    let missing: Vec<String> = group::listed_children(pipeline)
        .filter(|(ns, name)| !found.contains(&(ns.as_str(), name.as_str())))
        .map(|(_, name)| escape_controls(&name).into_owned())
        .collect();
    match missing.len() {
        0..=10 => missing.join(", "),
        n => format!("{} and {} more", missing[..10].join(", "), n - 10),
    }
}

//! Attaching child TaskRuns to their PipelineRun.
//!
//! In a cluster, Chains finds a PipelineRun's TaskRuns through its
//! `status.childReferences`. Offline we have whatever the user exported, so a
//! TaskRun belongs to a PipelineRun (same namespace) when any of these hold:
//! an ownerReference of kind PipelineRun with the PipelineRun's uid; the
//! `tekton.dev/pipelineRun` label names it; its childReferences name the
//! TaskRun. A TaskRun given as context (`--taskruns`) that carries none of
//! these links (Chains' test fixtures, hand-written runs) is attached when the
//! inputs hold exactly one PipelineRun.
//!
//! A stream does not say where a PipelineRun's children are (kubectl prints
//! every TaskRun before any PipelineRun), and holding each possible child
//! whole until its parent turns up made memory grow with the input (about
//! 95 KB per run). [`ChildStore`] instead writes a possible child, as JSON
//! (the text it was read from, or compact JSON when it was YAML), to an
//! unnamed temporary file and keeps only its links (a few 64-bit hashes)
//! and where its bytes are; a PipelineRun's children are read back and
//! decoded again when it is attested. That costs one more decode per child
//! (and an encode of a YAML one; the file holds the children's bytes, on
//! disk and not in memory), and about 66 bytes of memory per child.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, BufWriter, Write};
use std::sync::Arc;

use super::read::{self, InputError};
use super::{Origin, Run, RunKind, Syntax, array_at, str_at};

/// A link between runs as a 64-bit hash: `uid`, a PipelineRun's
/// (namespace, name), or a child's (namespace, name). Two different links
/// with one hash would only make a candidate that the exact check drops.
fn link(kind: &str, namespace: &str, name: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (kind, namespace, name).hash(&mut h);
    h.finish()
}

/// Children a PipelineRun lists by name: (namespace, TaskRun name).
pub fn listed_children(pipeline: &Run) -> impl Iterator<Item = (String, String)> + '_ {
    let ns = pipeline.meta().namespace();
    array_at(pipeline.status(), "childReferences")
        .iter()
        .filter(|c| matches!(str_at(Some(c), "kind"), "" | "TaskRun"))
        .map(move |c| (ns.to_string(), str_at(Some(c), "name").to_string()))
        .filter(|(_, name)| !name.is_empty())
}

/// The links of the children a PipelineRun lists by name.
pub fn listed_child_links(pipeline: &Run) -> Vec<u64> {
    listed_children(pipeline)
        .map(|(ns, name)| link("child", &ns, &name))
        .collect()
}

/// Whether a TaskRun links itself to a PipelineRun (ownerReference or label).
pub fn links_to_parent(run: &Run) -> bool {
    let m = run.meta();
    run.kind == RunKind::TaskRun
        && (m.label("tekton.dev/pipelineRun").is_some()
            || m.owner_references()
                .iter()
                .any(|o| str_at(Some(o), "kind") == "PipelineRun"))
}

/// Whether a TaskRun may belong to a PipelineRun, so that it must be kept
/// until its parent is attested: it links to one (ownerReference or label),
/// or a PipelineRun already seen lists it (`listed`, from
/// [`listed_child_links`]).
pub fn may_be_child(run: &Run, listed: &HashSet<u64>) -> bool {
    let m = run.meta();
    links_to_parent(run)
        || (run.kind == RunKind::TaskRun
            && !m.name().is_empty()
            && listed.contains(&link("child", m.namespace(), m.name())))
}

/// A run kept in the file of a [`ChildStore`], not in memory: where its
/// entry starts (see [`ChildStore::write`]).
pub struct KeptRun {
    offset: u64,
    kind: RunKind,
}

/// No next entry in a link's chain.
const END: u32 = u32::MAX;

/// Possible children of PipelineRuns, kept out of memory: each one's
/// source object as JSON in an unnamed temporary file, with where it was
/// read from (its [`Origin`]), and in memory only where its entry starts
/// and its links.
///
/// The links are an intrusive multimap of fixed-size entries: `heads` maps
/// a link (a 64-bit hash, see [`link`]) to its newest entry in `chain`, and
/// each entry names a child and the link's next older entry. A child costs
/// one 8-byte offset, an 8-byte chain entry per link (three for a kubectl
/// TaskRun: its parent's uid and name and its own name) and a share of
/// `heads` (its own name, and a quarter of its parent's two links with four
/// children per parent): about 66 bytes, where a record with its [`Origin`]
/// and a `HashMap<u64, Vec<u32>>` took about 200 (16 MiB of a JSON List of
/// 100,000 runs' peak RSS; see README's Performance section).
#[derive(Default)]
pub struct ChildStore {
    spill: Option<BufWriter<File>>,
    written: u64,
    /// Where each kept child's entry starts in the file.
    offsets: Vec<u64>,
    /// Link (split in two halves, so that an entry packs into 12 bytes) →
    /// its newest entry in `chain`.
    heads: HashMap<[u32; 2], u32>,
    /// (child, next older entry of the same link or [`END`]).
    chain: Vec<(u32, u32)>,
    /// Context TaskRuns without any link (see the module doc).
    unlinked_context: Vec<u32>,
}

/// A link as the key of [`ChildStore::heads`].
fn key(link: u64) -> [u32; 2] {
    [(link >> 32) as u32, link as u32]
}

/// The fixed part of an entry's header: the JSON's length (u32), syntax
/// and context flags (u8 each), document, item (u64::MAX: none) and line
/// (u64 each), and the file name's length (u32); the file name and the JSON
/// follow.
const HEADER: usize = 4 + 1 + 1 + 8 + 8 + 8 + 4;

impl ChildStore {
    /// Keep a possible child: `bytes` is its source object as JSON (see
    /// [`ChildStore::encode`]), or the JSON text it was read from.
    pub fn add(&mut self, run: &Run, bytes: &[u8], context: bool) -> io::Result<()> {
        let index = u32::try_from(self.offsets.len())
            .ok()
            .filter(|&i| i != END)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "too many runs"))?;
        let offset = self.write(run, bytes, context)?;
        self.offsets.push(offset);
        let m = run.meta();
        let ns = m.namespace();
        let mut links = Vec::new();
        for o in m.owner_references() {
            if str_at(Some(o), "kind") == "PipelineRun" {
                links.push(link("uid", "", str_at(Some(o), "uid")));
            }
        }
        if let Some(parent) = m.label("tekton.dev/pipelineRun") {
            links.push(link("pipelinerun", ns, parent));
        }
        if context && links.is_empty() {
            self.unlinked_context.push(index);
        }
        if !m.name().is_empty() {
            links.push(link("child", ns, m.name()));
        }
        links.sort_unstable();
        links.dedup();
        for l in links {
            let entry = u32::try_from(self.chain.len())
                .ok()
                .filter(|&e| e != END)
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "too many runs"))?;
            let next = self.heads.insert(key(l), entry).unwrap_or(END);
            self.chain.push((index, next));
        }
        Ok(())
    }

    /// A run's source object as the bytes [`ChildStore::add`] keeps.
    pub fn encode(run: &Run) -> Vec<u8> {
        serde_json::to_vec(run.source_object()).unwrap_or_default()
    }

    /// Whether a child with this link (from [`listed_child_links`]) is kept.
    pub fn has(&self, child_link: u64) -> bool {
        self.heads.contains_key(&key(child_link))
    }

    /// The children kept under a link, newest first.
    fn linked(&self, l: u64) -> impl Iterator<Item = u32> + '_ {
        let mut entry = self.heads.get(&key(l)).copied().unwrap_or(END);
        std::iter::from_fn(move || {
            let &(child, next) = self.chain.get(entry as usize)?;
            entry = next;
            Some(child)
        })
    }

    /// Whether context TaskRuns without links are kept: they join the only
    /// PipelineRun, which is known only at the end of the input.
    pub fn has_unlinked_context(&self) -> bool {
        !self.unlinked_context.is_empty()
    }

    /// Number of children kept.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Memory held for the children kept (offsets and links), not counting
    /// the file: what grows with the number of children. The map's table
    /// is counted as hashbrown lays it out: a power of two of buckets of
    /// which at most 7/8 are used, each an entry and a control byte.
    pub fn retained_bytes(&self) -> usize {
        let offsets = self.offsets.capacity() * std::mem::size_of::<u64>();
        let chain = self.chain.capacity() * std::mem::size_of::<(u32, u32)>();
        let buckets = match self.heads.capacity() {
            0 => 0,
            c => (c * 8 / 7).next_power_of_two(),
        };
        let heads = buckets * (std::mem::size_of::<([u32; 2], u32)>() + 1);
        offsets + chain + heads + self.unlinked_context.capacity() * 4
    }

    /// Write out what is buffered, so that children can be read back.
    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.spill {
            Some(s) => s.flush(),
            None => Ok(()),
        }
    }

    /// A PipelineRun's children, read back and decoded, in input order.
    /// `only_pipeline`: the inputs hold no other PipelineRun, so unlinked
    /// context TaskRuns join this one. Call [`ChildStore::flush`] first.
    pub fn children_of(&self, pipeline: &Run, only_pipeline: bool) -> Result<Vec<Run>, InputError> {
        let m = pipeline.meta();
        let ns = m.namespace();
        let mut candidates: Vec<u32> = Vec::new();
        let mut look = |l: u64| candidates.extend(self.linked(l));
        if !m.uid().is_empty() {
            look(link("uid", "", m.uid()));
        }
        if !m.name().is_empty() {
            look(link("pipelinerun", ns, m.name()));
        }
        for l in listed_child_links(pipeline) {
            look(l);
        }
        if only_pipeline {
            candidates.extend(&self.unlinked_context);
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut runs = Vec::with_capacity(candidates.len());
        let mut context = Vec::with_capacity(candidates.len());
        for i in candidates {
            let offset = self.offsets.get(i as usize).copied().unwrap_or(u64::MAX);
            let (run, is_context) = self.read_back(offset, RunKind::TaskRun)?;
            runs.push(run);
            context.push(is_context);
        }
        // The exact check: the hashes only chose candidates.
        let mut all: Vec<&Run> = vec![pipeline];
        all.extend(runs.iter());
        let mut flags = vec![false];
        flags.extend(context);
        let wanted: HashSet<usize> = children_with(&all, &flags, only_pipeline)[0]
            .iter()
            .map(|&c| c - 1)
            .collect();
        Ok(runs
            .into_iter()
            .enumerate()
            .filter(|(i, _)| wanted.contains(i))
            .map(|(_, r)| r)
            .collect())
    }

    /// Keep a run (a PipelineRun waiting for its children) in the file,
    /// outside the child index; [`ChildStore::read_run`] gives it back.
    pub fn keep_run(&mut self, run: &Run) -> io::Result<KeptRun> {
        let bytes = ChildStore::encode(run);
        let offset = self.write(run, &bytes, false)?;
        Ok(KeptRun {
            offset,
            kind: run.kind,
        })
    }

    /// A run kept by [`ChildStore::keep_run`]. Call [`ChildStore::flush`] first.
    pub fn read_run(&self, kept: &KeptRun) -> Result<Run, InputError> {
        self.read_back(kept.offset, kept.kind).map(|(run, _)| run)
    }

    /// Append a run's entry to the file: the header (see [`HEADER`]), the
    /// run's file name and its JSON. Returns where the entry starts.
    fn write(&mut self, run: &Run, bytes: &[u8], context: bool) -> io::Result<u64> {
        let too_big = |what| io::Error::new(io::ErrorKind::InvalidInput, what);
        let len = u32::try_from(bytes.len()).map_err(|_| too_big("a run over 4 GiB"))?;
        let origin = &run.origin;
        let name = origin.file.as_bytes();
        let name_len = u32::try_from(name.len()).map_err(|_| too_big("a file name over 4 GiB"))?;
        let spill = match &mut self.spill {
            Some(s) => s,
            None => self
                .spill
                .insert(BufWriter::with_capacity(1 << 20, tempfile::tempfile()?)),
        };
        let mut header = [0u8; HEADER];
        let fields: [&[u8]; 7] = [
            &len.to_le_bytes(),
            &[u8::from(run.syntax == Syntax::Json)],
            &[u8::from(context)],
            &(origin.document as u64).to_le_bytes(),
            &origin.item.map_or(u64::MAX, |i| i as u64).to_le_bytes(),
            &(origin.line as u64).to_le_bytes(),
            &name_len.to_le_bytes(),
        ];
        let mut at = 0;
        for f in fields {
            header[at..at + f.len()].copy_from_slice(f);
            at += f.len();
        }
        spill.write_all(&header)?;
        spill.write_all(name)?;
        spill.write_all(bytes)?;
        let offset = self.written;
        self.written += (HEADER + name.len() + bytes.len()) as u64;
        Ok(offset)
    }

    /// The run whose entry starts at `offset`, and whether it was given as
    /// context.
    fn read_back(&self, offset: u64, kind: RunKind) -> Result<(Run, bool), InputError> {
        let io_err = |source| InputError::Io {
            path: "the temporary file holding child TaskRuns".into(),
            source,
        };
        let bad = || io_err(io::Error::new(io::ErrorKind::InvalidData, "a bad entry"));
        let file = self
            .spill
            .as_ref()
            .ok_or_else(|| io_err(io::Error::other("no temporary file")))?
            .get_ref();
        let mut header = [0u8; HEADER];
        read_exact_at(file, &mut header, offset).map_err(io_err)?;
        let u32_at = |at: usize| {
            header
                .get(at..at + 4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_le_bytes)
        };
        let u64_at = |at: usize| {
            header
                .get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes)
        };
        let (Some(len), Some(document), Some(item), Some(line), Some(name_len)) =
            (u32_at(0), u64_at(6), u64_at(14), u64_at(22), u32_at(30))
        else {
            return Err(bad());
        };
        let syntax = match header[4] {
            1 => Syntax::Json,
            _ => Syntax::Yaml,
        };
        let context = header[5] == 1;
        let mut rest = vec![0; name_len as usize + len as usize];
        read_exact_at(file, &mut rest, offset + HEADER as u64).map_err(io_err)?;
        let bytes = rest.split_off(name_len as usize);
        let name = String::from_utf8(rest).map_err(|_| bad())?;
        let origin = Origin {
            file: Arc::from(name),
            document: usize::try_from(document).map_err(|_| bad())?,
            item: (item != u64::MAX)
                .then(|| usize::try_from(item))
                .transpose()
                .map_err(|_| bad())?,
            line: usize::try_from(line).map_err(|_| bad())?,
        };
        let run = read::decode_kept(&bytes, origin, syntax, kind)?;
        Ok((run, context))
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_read(file, buf, offset)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}

/// For each run index, the indices of its children (empty for TaskRuns), in input order.
pub fn children(runs: &[&Run], context_only: &[bool]) -> Vec<Vec<usize>> {
    let only_one = runs
        .iter()
        .filter(|r| r.kind == RunKind::PipelineRun)
        .count()
        == 1;
    children_with(runs, context_only, only_one)
}

/// [`children`], told whether the inputs hold exactly one PipelineRun (for
/// unlinked context TaskRuns), which `runs` alone may not show.
fn children_with(runs: &[&Run], context_only: &[bool], only_pipeline: bool) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); runs.len()];
    let pipelines: Vec<usize> = (0..runs.len())
        .filter(|&i| runs[i].kind == RunKind::PipelineRun)
        .collect();
    if pipelines.is_empty() {
        return out;
    }

    // Index PipelineRuns by uid, by (namespace, name), and by the children they list.
    let mut by_uid: HashMap<&str, usize> = HashMap::new();
    let mut by_name: HashMap<(&str, &str), usize> = HashMap::new();
    let mut by_child: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for &p in &pipelines {
        let m = runs[p].meta();
        if !m.uid().is_empty() {
            by_uid.insert(m.uid(), p);
        }
        if !m.name().is_empty() {
            by_name.insert((m.namespace(), m.name()), p);
        }
        for c in array_at(runs[p].status(), "childReferences") {
            let kind = str_at(Some(c), "kind");
            let name = str_at(Some(c), "name");
            if !name.is_empty() && (kind.is_empty() || kind == "TaskRun") {
                by_child.entry((m.namespace(), name)).or_default().push(p);
            }
        }
    }

    for (t, run) in runs.iter().enumerate() {
        if run.kind != RunKind::TaskRun {
            continue;
        }
        let m = run.meta();
        let mut parents: Vec<usize> = Vec::new();
        let mut linked = false;
        for o in m.owner_references() {
            if str_at(Some(o), "kind") == "PipelineRun" {
                linked = true;
                if let Some(&p) = by_uid.get(str_at(Some(o), "uid")) {
                    parents.push(p);
                }
            }
        }
        if let Some(pr_name) = m.label("tekton.dev/pipelineRun") {
            linked = true;
            if let Some(&p) = by_name.get(&(m.namespace(), pr_name)) {
                parents.push(p);
            }
        }
        if !m.name().is_empty()
            && let Some(ps) = by_child.get(&(m.namespace(), m.name()))
        {
            linked = true;
            parents.extend(ps);
        }
        if !linked && context_only[t] && only_pipeline && pipelines.len() == 1 {
            parents.push(pipelines[0]);
        }
        parents.sort_unstable();
        parents.dedup();
        for p in parents {
            out[p].push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn run(kind: RunKind, object: Value) -> Run {
        Run::from_api(kind, object)
    }

    #[test]
    fn links_by_owner_label_and_child_reference() {
        let pr = run(
            RunKind::PipelineRun,
            json!({"metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
                   "status": {"childReferences": [{"kind": "TaskRun", "name": "c"}]}}),
        );
        let by_owner = run(
            RunKind::TaskRun,
            json!({"metadata": {"name": "a", "namespace": "ns",
                   "ownerReferences": [{"kind": "PipelineRun", "uid": "u1"}]}}),
        );
        let by_label = run(
            RunKind::TaskRun,
            json!({"metadata": {"name": "b", "namespace": "ns", "labels": {"tekton.dev/pipelineRun": "p"}}}),
        );
        let by_ref = run(
            RunKind::TaskRun,
            json!({"metadata": {"name": "c", "namespace": "ns"}}),
        );
        let other_ns = run(
            RunKind::TaskRun,
            json!({"metadata": {"name": "d", "namespace": "x", "labels": {"tekton.dev/pipelineRun": "p"}}}),
        );
        let unrelated = run(
            RunKind::TaskRun,
            json!({"metadata": {"name": "e", "namespace": "ns"}}),
        );
        let runs = [&pr, &by_owner, &by_label, &by_ref, &other_ns, &unrelated];
        let c = children(&runs, &[false; 6]);
        assert_eq!(c[0], vec![1, 2, 3]);
    }

    /// A child TaskRun of `parent` with a spec of `bulk` bytes.
    fn child(i: usize, parent: &str, bulk: usize, file: &Arc<str>) -> Run {
        let mut r = run(
            RunKind::TaskRun,
            json!({"metadata": {"name": format!("c{i}"), "namespace": "ns",
                   "labels": {"tekton.dev/pipelineRun": parent, "tekton.dev/pipelineTask": "t"},
                   "ownerReferences": [{"kind": "PipelineRun", "uid": format!("uid-{parent}")}]},
                   "spec": {"script": "x".repeat(bulk)}, "status": {}}),
        );
        r.origin.file = file.clone();
        r
    }

    #[test]
    fn kept_children_cost_the_same_small_memory_whatever_their_size() {
        // What the store holds per child must not depend on the child's
        // size (it is on disk), only on its links: a bounded number of bytes.
        let file: Arc<str> = Arc::from("stream.yaml");
        let per_child = |bulk: usize| {
            let mut store = ChildStore::default();
            let n = 512;
            for i in 0..n {
                let c = child(i, &format!("p{}", i / 4), bulk, &file);
                store.add(&c, &ChildStore::encode(&c), false).unwrap();
            }
            store.retained_bytes() / n
        };
        let small = per_child(10);
        let big = per_child(50_000);
        assert_eq!(small, big, "memory per child grew with its size");
        assert!(small < 72, "{small} bytes kept per child");
    }

    #[test]
    fn children_are_read_back_whole_and_in_input_order() {
        let file: Arc<str> = Arc::from("s");
        let mut store = ChildStore::default();
        let kids: Vec<Run> = (0..6)
            .map(|i| child(i, if i % 2 == 0 { "p" } else { "q" }, 50, &file))
            .collect();
        for k in &kids {
            store.add(k, &ChildStore::encode(k), false).unwrap();
        }
        store.flush().unwrap();
        let p = run(
            RunKind::PipelineRun,
            json!({"metadata": {"name": "p", "namespace": "ns", "uid": "uid-p"},
                   "status": {"childReferences": [{"kind": "TaskRun", "name": "c4"}]}}),
        );
        assert!(store.has(listed_child_links(&p)[0]));
        let got = store.children_of(&p, false).unwrap();
        let names: Vec<&str> = got.iter().map(|r| r.meta().name()).collect();
        assert_eq!(names, ["c0", "c2", "c4"]);
        assert_eq!(got[1].object, kids[2].object);
        assert_eq!(got[1].origin, kids[2].origin);
    }

    #[test]
    fn a_kept_pipelinerun_reads_back_the_same() {
        let mut store = ChildStore::default();
        let p = run(
            RunKind::PipelineRun,
            json!({"metadata": {"name": "p"}, "status": {"pipelineSpec": {"tasks": []}}}),
        );
        let kept = store.keep_run(&p).unwrap();
        store.flush().unwrap();
        let back = store.read_run(&kept).unwrap();
        assert_eq!(
            (back.kind, &back.object, &back.origin),
            (p.kind, &p.object, &p.origin)
        );
        // Kept runs are not children.
        assert!(store.is_empty());
    }

    #[test]
    fn unlinked_context_taskruns_join_the_only_pipelinerun() {
        let pr = run(RunKind::PipelineRun, json!({"metadata": {}}));
        let tr = run(RunKind::TaskRun, json!({"metadata": {}}));
        assert_eq!(children(&[&pr, &tr], &[false, true])[0], vec![1]);
        // Not when given as a run to attest: it may well be unrelated.
        assert!(children(&[&pr, &tr], &[false, false])[0].is_empty());
    }
}

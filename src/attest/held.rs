//! Results in input order, and the results held back for it.
//!
//! A PipelineRun waits for its children, which may come long after it; where
//! the order shows (stdout, `--fail-fast`), every result after it waits too.
//! Held results are kept prepared (their bytes, without names: see
//! [`Prepared`]) and, once they pass [`HELD_IN_MEMORY`] bytes, appended to
//! an unnamed temporary file and read back when their turn comes. Memory
//! then stays flat however many results wait: what remains per held result
//! is its slot in the queue (24 bytes); failures stay whole (their
//! messages are printed in order too). The file costs disk (in `TMPDIR`)
//! the size of the output held, and is emptied whenever nothing waits.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use rayon::prelude::*;

use super::output::{Output, Prepared};
use crate::pipeline::{Attested, RunError};
use crate::run::read::InputError;
use crate::run::{Origin, RunId, RunKind, Syntax};

/// Bytes of prepared results held in memory before they go to the file:
/// some chunks' worth, so that a PipelineRun whose children follow it
/// closely costs no disk.
pub const HELD_IN_MEMORY: usize = 8 << 20;

/// A result ready to place: the run and what to write (`None`: the run's
/// artifact type is disabled), or why it failed.
pub type Ready = Result<(RunId, Option<Prepared>), RunError>;

/// What the pipeline produced for one input position.
pub enum Slot {
    /// A PipelineRun waiting for its children.
    Waiting,
    Done(Box<Attested>),
    /// Done, prepared and held in memory behind a slot still waiting.
    Held(Box<Ready>),
    /// Done and held in the spill file: where its record is.
    Spilled {
        offset: u64,
        len: u32,
    },
    /// Taken out of order (with `--output-dir`), waiting for the slots before it.
    Taken,
}

/// Results in input order: a slot per run or failed document, taken as soon
/// as everything before it is done. Unless the order shows, results are
/// taken as soon as they are done, so that a PipelineRun waiting for
/// children that come later holds nothing back.
pub struct Ordered {
    slots: VecDeque<Slot>,
    /// Sequence number of the first slot.
    base: usize,
    in_order: bool,
    /// `Done` slots not yet prepared by [`Ordered::hold`].
    unprepared: Vec<usize>,
    /// `Held` slots of runs (not failures), and the bytes they hold.
    in_memory: Vec<usize>,
    held_bytes: usize,
    budget: usize,
    /// `Spilled` slots.
    spilled: usize,
    spill: Spill,
}

impl Ordered {
    pub fn new(in_order: bool) -> Ordered {
        Ordered::with_budget(in_order, HELD_IN_MEMORY)
    }

    fn with_budget(in_order: bool, budget: usize) -> Ordered {
        Ordered {
            slots: VecDeque::new(),
            base: 0,
            in_order,
            unprepared: Vec::new(),
            in_memory: Vec::new(),
            held_bytes: 0,
            budget,
            spilled: 0,
            spill: Spill::default(),
        }
    }

    pub fn push(&mut self, slot: Slot) -> usize {
        let seq = self.base + self.slots.len();
        if self.in_order && matches!(slot, Slot::Done(_)) {
            self.unprepared.push(seq);
        }
        self.slots.push_back(slot);
        seq
    }

    pub fn fill(&mut self, seq: usize, result: Attested) {
        if let Some(slot) = seq
            .checked_sub(self.base)
            .and_then(|i| self.slots.get_mut(i))
        {
            *slot = Slot::Done(Box::new(result));
            if self.in_order {
                self.unprepared.push(seq);
            }
        }
    }

    fn slot_mut(&mut self, seq: usize) -> Option<&mut Slot> {
        let i = seq.checked_sub(self.base)?;
        self.slots.get_mut(i)
    }

    /// Take the finished results: those at the front, or, unless in order,
    /// all of them; in input order, prepared for `out`.
    pub fn ready(&mut self, out: &Output<'_>) -> Vec<Ready> {
        let mut taken = Vec::new();
        if !self.in_order {
            for slot in self.slots.iter_mut() {
                if let Slot::Done(_) = slot {
                    taken.push(std::mem::replace(slot, Slot::Taken));
                }
            }
        }
        while let Some(Slot::Done(_) | Slot::Held(_) | Slot::Spilled { .. } | Slot::Taken) =
            self.slots.front()
        {
            if let Some(slot) = self.slots.pop_front()
                && !matches!(slot, Slot::Taken)
            {
                taken.push(slot);
            }
            self.base += 1;
        }
        // Preparing (serializing) is the costly part: in parallel.
        let mut ready: Vec<(Option<Ready>, bool)> = taken
            .par_iter_mut()
            .map(|slot| match std::mem::replace(slot, Slot::Taken) {
                Slot::Done(r) => (Some(prepare(out, *r)), false),
                Slot::Held(r) => (Some(*r), true),
                other => {
                    *slot = other;
                    (None, false)
                }
            })
            .collect();
        for (slot, (r, held)) in taken.iter().zip(ready.iter_mut()) {
            if let Slot::Spilled { offset, len } = slot {
                *r = Some(self.spill.read(*offset, *len));
                self.spilled -= 1;
            } else if let (true, Some(Ok((_, Some(p))))) = (*held, &r) {
                self.held_bytes = self.held_bytes.saturating_sub(p.size());
            }
        }
        let base = self.base;
        self.in_memory.retain(|&seq| seq >= base);
        if self.spilled == 0 {
            self.spill.clear();
        }
        ready.into_iter().filter_map(|(r, _)| r).collect()
    }

    /// Prepare the results held behind a waiting slot (where the order
    /// shows) and, past the budget, move them to the spill file. When the
    /// file cannot be written they stay in memory; the error is returned
    /// for a warning.
    pub fn hold(&mut self, out: &Output<'_>) -> io::Result<()> {
        let mut done: Vec<(usize, Attested)> = Vec::new();
        for seq in std::mem::take(&mut self.unprepared) {
            if let Some(slot) = self.slot_mut(seq)
                && let Slot::Done(_) = slot
                && let Slot::Done(r) = std::mem::replace(slot, Slot::Taken)
            {
                done.push((seq, *r));
            }
        }
        let prepared: Vec<(usize, Ready)> = done
            .into_par_iter()
            .map(|(seq, r)| (seq, prepare(out, r)))
            .collect();
        for (seq, r) in prepared {
            if let Ok((_, p)) = &r {
                self.held_bytes += p.as_ref().map_or(0, Prepared::size);
                self.in_memory.push(seq);
            }
            if let Some(slot) = self.slot_mut(seq) {
                *slot = Slot::Held(Box::new(r));
            }
        }
        if self.held_bytes <= self.budget || self.spill.broken {
            return Ok(());
        }
        // In input order, so that the file is read front to back.
        let mut in_memory = std::mem::take(&mut self.in_memory);
        in_memory.sort_unstable();
        for (i, &seq) in in_memory.iter().enumerate() {
            let Some(slot) = seq
                .checked_sub(self.base)
                .and_then(|i| self.slots.get_mut(i))
            else {
                continue;
            };
            let Slot::Held(r) = slot else { continue };
            let Ok((id, prepared)) = &**r else { continue };
            let size = prepared.as_ref().map_or(0, Prepared::size);
            match self.spill.write(id, prepared.as_ref()) {
                Ok((offset, len)) => {
                    *slot = Slot::Spilled { offset, len };
                    self.spilled += 1;
                    self.held_bytes = self.held_bytes.saturating_sub(size);
                }
                Err(e) => {
                    self.spill.broken = true;
                    self.in_memory = in_memory.split_off(i);
                    return Err(e);
                }
            }
        }
        self.spill.flush()
    }

    /// Bytes of prepared results held in memory.
    #[cfg(test)]
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Results held back (done, behind a slot still waiting).
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| !matches!(s, Slot::Waiting | Slot::Taken))
            .count()
    }
}

fn prepare(out: &Output<'_>, r: Attested) -> Ready {
    r.map(|(id, product)| (id, out.prepare(product)))
}

/// The unnamed temporary file held results wait in. Records are written in
/// input order and read back in it, so the file is read front to back.
#[derive(Default)]
struct Spill {
    file: Option<BufWriter<File>>,
    /// Bytes written (the next record's offset).
    written: u64,
    /// Writing failed once: hold in memory from then on.
    broken: bool,
}

impl Spill {
    fn write(&mut self, id: &RunId, prepared: Option<&Prepared>) -> io::Result<(u64, u32)> {
        let record = encode(id, prepared);
        let len = u32::try_from(record.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a result over 4 GiB"))?;
        let file = match &mut self.file {
            Some(f) => f,
            None => self
                .file
                .insert(BufWriter::with_capacity(1 << 20, tempfile::tempfile()?)),
        };
        file.write_all(&record)?;
        let offset = self.written;
        self.written += u64::from(len);
        Ok((offset, len))
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }

    fn read(&mut self, offset: u64, len: u32) -> Ready {
        let io_err = |source| {
            RunError::Input(InputError::Io {
                path: "the temporary file holding results for output order".into(),
                source,
            })
        };
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io_err(io::Error::other("no temporary file")))?;
        let mut record = vec![0; len as usize];
        file.flush()
            .and_then(|()| {
                let mut f = file.get_ref();
                f.seek(SeekFrom::Start(offset))?;
                f.read_exact(&mut record)?;
                // Writing goes on at the end.
                f.seek(SeekFrom::Start(self.written)).map(drop)
            })
            .map_err(io_err)?;
        decode(&record).ok_or_else(|| {
            io_err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a held result did not read back",
            ))
        })
    }

    /// Nothing is held: give the disk back.
    fn clear(&mut self) {
        if self.written == 0 {
            return;
        }
        let emptied = self.file.as_mut().map(|f| {
            f.flush()?;
            f.get_ref().set_len(0)?;
            f.get_ref().seek(SeekFrom::Start(0)).map(drop)
        });
        // Else the file stays as it is and grows on.
        if let Some(Ok(())) = emptied {
            self.written = 0;
        }
    }
}

/// A held result as bytes: the run's identity, then what it writes.
fn encode(id: &RunId, prepared: Option<&Prepared>) -> Vec<u8> {
    let mut b = Vec::with_capacity(prepared.map_or(0, Prepared::size) + 256);
    b.push(match id.kind {
        RunKind::TaskRun => 0,
        RunKind::PipelineRun => 1,
    });
    for s in [&*id.namespace, &*id.name, &*id.uid, &*id.origin.file] {
        put_bytes(&mut b, s.as_bytes());
    }
    let item = id.origin.item.map_or(u64::MAX, |i| i as u64);
    for n in [id.origin.document as u64, item, id.origin.line as u64] {
        b.extend_from_slice(&n.to_le_bytes());
    }
    let Some(p) = prepared else {
        b.push(0);
        return b;
    };
    b.push(1);
    put_bytes(&mut b, &p.line);
    b.extend_from_slice(&(p.files.len() as u64).to_le_bytes());
    for (name, bytes) in &p.files {
        put_bytes(&mut b, name.as_bytes());
        put_bytes(&mut b, bytes);
    }
    match &p.annotated {
        None => b.push(0),
        Some((bytes, syntax)) => {
            b.push(match syntax {
                Syntax::Yaml => 1,
                Syntax::Json => 2,
            });
            put_bytes(&mut b, bytes);
        }
    }
    b.extend_from_slice(&(p.images_unstored as u64).to_le_bytes());
    b
}

fn put_bytes(b: &mut Vec<u8>, bytes: &[u8]) {
    b.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    b.extend_from_slice(bytes);
}

/// [`encode`]'s bytes back (`None` when they are not what it wrote).
fn decode(record: &[u8]) -> Option<(RunId, Option<Prepared>)> {
    let mut r = Record(record);
    let kind = match r.byte()? {
        0 => RunKind::TaskRun,
        1 => RunKind::PipelineRun,
        _ => return None,
    };
    let namespace = r.string()?;
    let name = r.string()?;
    let uid = r.string()?;
    let file: Arc<str> = r.string()?.into();
    let document = usize::try_from(r.number()?).ok()?;
    let item = match r.number()? {
        u64::MAX => None,
        i => Some(usize::try_from(i).ok()?),
    };
    let line = usize::try_from(r.number()?).ok()?;
    let id = RunId {
        kind,
        namespace,
        name,
        uid,
        origin: Origin {
            file,
            document,
            item,
            line,
        },
    };
    if r.byte()? == 0 {
        return Some((id, None));
    }
    let line = r.bytes()?.to_vec();
    let count = r.number()?;
    let mut files = Vec::new();
    for _ in 0..count {
        let name = r.string()?;
        files.push((name, r.bytes()?.to_vec()));
    }
    let annotated = match r.byte()? {
        0 => None,
        1 => Some((r.bytes()?.to_vec(), Syntax::Yaml)),
        2 => Some((r.bytes()?.to_vec(), Syntax::Json)),
        _ => return None,
    };
    let images_unstored = usize::try_from(r.number()?).ok()?;
    let prepared = Prepared {
        line,
        files,
        annotated,
        images_unstored,
    };
    r.0.is_empty().then_some((id, Some(prepared)))
}

/// The unread rest of a record.
struct Record<'a>(&'a [u8]);

impl<'a> Record<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    fn number(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.number()?).ok()?;
        self.take(n)
    }

    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Product;
    use crate::plan::{AttestOutput, StreamFormat};
    use crate::sink::Sink;

    fn stdout_plan() -> AttestOutput {
        AttestOutput {
            format: StreamFormat::Json,
            dir: None,
            file: None,
            warnings: Vec::new(),
        }
    }

    fn failed(n: usize) -> Attested {
        Err(RunError::Input(InputError::NoRuns {
            inputs: n.to_string(),
        }))
    }

    fn statement(n: usize) -> Attested {
        let id = RunId {
            kind: RunKind::TaskRun,
            namespace: "ns".into(),
            name: format!("run-{n}"),
            uid: format!("uid-{n}"),
            origin: Origin {
                file: "<stdin>".into(),
                document: n,
                item: n.is_multiple_of(2).then_some(n / 2),
                line: n * 10 + 1,
            },
        };
        let body = "x".repeat(1000);
        Ok((
            id,
            Product::Statement(serde_json::json!({"n": n, "body": body})),
        ))
    }

    /// What a ready result comes to, for comparing.
    fn shown(r: Ready) -> String {
        match r {
            Ok((id, p)) => format!("{id:?} {p:?}"),
            Err(e) => format!("error {e}"),
        }
    }

    #[test]
    fn a_waiting_pipelinerun_holds_results_back_only_where_order_shows() {
        let plan = stdout_plan();
        let out = Output::new(&plan, Sink::open(None).unwrap(), false, None);
        for in_order in [true, false] {
            let mut ordered = Ordered::new(in_order);
            let waiting = ordered.push(Slot::Waiting);
            for i in 0..100 {
                ordered.push(Slot::Done(Box::new(failed(i))));
            }
            let taken = ordered.ready(&out).len();
            assert_eq!(taken, if in_order { 0 } else { 100 });
            assert_eq!(ordered.held(), if in_order { 100 } else { 0 });
            ordered.fill(waiting, failed(1000));
            let rest = ordered.ready(&out);
            assert_eq!(rest.len(), if in_order { 101 } else { 1 });
            assert!(ordered.slots.is_empty());
            assert_eq!(ordered.base, 101);
        }
    }

    #[test]
    fn held_results_past_the_budget_wait_on_disk_and_come_back_the_same_in_order() {
        let plan = stdout_plan();
        let out = Output::new(&plan, Sink::open(None).unwrap(), false, None);
        let budget = 20_000;
        let mut ordered = Ordered::with_budget(true, budget);
        let waiting = ordered.push(Slot::Waiting);
        let n: usize = 2000;
        // Held a chunk at a time, as attest does.
        for chunk in (0..n).collect::<Vec<_>>().chunks(64) {
            for &i in chunk {
                let r = if i.is_multiple_of(97) {
                    failed(i)
                } else {
                    statement(i)
                };
                ordered.push(Slot::Done(Box::new(r)));
            }
            assert!(ordered.ready(&out).is_empty());
            ordered.hold(&out).unwrap();
            assert!(
                ordered.held_bytes() <= budget,
                "{} bytes held in memory",
                ordered.held_bytes()
            );
        }
        assert_eq!(ordered.held(), n);
        assert!(
            ordered.spill.written > 1_000_000,
            "{}",
            ordered.spill.written
        );
        ordered.fill(waiting, failed(n));
        let got: Vec<String> = ordered.ready(&out).into_iter().map(shown).collect();
        let want: Vec<String> = std::iter::once(failed(n))
            .chain((0..n).map(|i| {
                if i.is_multiple_of(97) {
                    failed(i)
                } else {
                    statement(i)
                }
            }))
            .map(|r| shown(prepare(&out, r)))
            .collect();
        assert_eq!(got, want);
        // Nothing waits: the file is emptied.
        assert_eq!(ordered.spill.written, 0);
    }

    #[test]
    fn records_round_trip_and_refuse_what_they_are_not() {
        let (id, _) = statement(3).unwrap();
        let prepared = Prepared {
            line: Vec::new(),
            files: vec![(".intoto.jsonl".into(), b"{}\n".to_vec())],
            annotated: Some((b"kind: TaskRun\n".to_vec(), Syntax::Yaml)),
            images_unstored: 2,
        };
        for p in [None, Some(&prepared)] {
            let record = encode(&id, p);
            let back = decode(&record).unwrap();
            assert_eq!(back.0, id);
            assert_eq!(back.1.as_ref(), p);
            for cut in [0, 1, record.len() / 2, record.len() - 1] {
                assert!(decode(&record[..cut]).is_none(), "cut at {cut}");
            }
        }
    }
}

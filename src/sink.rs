//! Where a command's main output goes: standard output, or the file named
//! by `--output-file` (cosign's flag). The file is written beside its final
//! name and renamed over it when the command is done, so a reader never
//! sees half a report and a failed write leaves any earlier file as it was.
//! The temporary file is [`crate::atomic`]'s, which owns writing files so.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Standard output or a file being written.
pub enum Sink {
    Stdout(io::Stdout),
    File {
        temp: tempfile::NamedTempFile,
        path: PathBuf,
    },
}

impl Sink {
    /// `None`: standard output.
    pub fn open(path: Option<&Path>) -> io::Result<Sink> {
        let Some(path) = path else {
            return Ok(Sink::Stdout(io::stdout()));
        };
        let temp = crate::atomic::temp_beside(path, 0o644)?;
        Ok(Sink::File {
            temp,
            path: path.to_path_buf(),
        })
    }

    /// Standard output (not a file).
    pub fn is_stdout(&self) -> bool {
        matches!(self, Sink::Stdout(_))
    }

    /// The name to give in messages.
    pub fn name(&self) -> String {
        match self {
            Sink::Stdout(_) => "standard output".into(),
            Sink::File { path, .. } => path.display().to_string(),
        }
    }

    /// Flush, and give a file its name (created readable by others, as a
    /// shell redirect would make it, subject to the umask).
    pub fn commit(self) -> io::Result<()> {
        match self {
            Sink::Stdout(mut s) => s.flush(),
            Sink::File { mut temp, path } => {
                temp.flush()?;
                temp.persist(&path).map(|_| ()).map_err(|e| e.error)
            }
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(s) => s.write(buf),
            Sink::File { temp, .. } => temp.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(s) => s.write_all(buf),
            Sink::File { temp, .. } => temp.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(s) => s.flush(),
            Sink::File { temp, .. } => temp.flush(),
        }
    }
}

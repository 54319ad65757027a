//! Writing a file so that readers see either nothing or all of it: attest's
//! outputs, the `files` backend's objects and generated keys.
//!
//! On Linux the bytes go into an unnamed file (`O_TMPFILE`) that is linked
//! under its name once complete. That is one directory operation per file
//! instead of the two of a named temporary file (create it, rename it in),
//! and no name to clean up after a crash; it matters for `attest -o DIR`,
//! where creating files can cost more than the provenance in them (a loop
//! creating 30,000 files measured 32-44 µs per file this way, 37-42 with a
//! rename, on the project's machine). Where that is not possible
//! (another OS, a file system without `O_TMPFILE`, no `/proc`, or a file
//! that already exists and must be replaced) a named temporary file is
//! renamed over the target, which is atomic too.

use std::io::{self, Write};
use std::path::Path;

/// How to write: the file mode (before the umask) and whether to flush the
/// data to disk before the file appears.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub mode: u32,
    pub sync: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: 0o644,
            sync: false,
        }
    }
}

/// Write `bytes` to `path` atomically, replacing any file there.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, bytes, Options::default())
}

/// [`write`] with a mode and durability of the caller's choosing. The mode is
/// set when the file is created, so a private key is never readable by
/// others, not even briefly.
pub fn write_with(path: &Path, bytes: &[u8], options: Options) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    #[cfg(target_os = "linux")]
    if let Some(done) = linux::write_unnamed(dir, path, bytes, options) {
        return done;
    }
    write_renamed(dir, path, bytes, options)
}

/// A named temporary file in the same directory, renamed over the target.
fn write_renamed(dir: &Path, path: &Path, bytes: &[u8], options: Options) -> io::Result<()> {
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(options.mode));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    if options.sync {
        tmp.as_file().sync_data()?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(target_os = "linux")]
mod linux {
    use std::fs::File;
    use std::io::{self, Write};
    use std::path::Path;

    use rustix::fs::{AtFlags, CWD, Mode, OFlags};
    use rustix::io::Errno;

    use super::Options;

    /// `Some` when the unnamed-file path decided the outcome; `None` when
    /// the caller should fall back to a named temporary file (nothing has
    /// been created then).
    pub(super) fn write_unnamed(
        dir: &Path,
        path: &Path,
        bytes: &[u8],
        options: Options,
    ) -> Option<io::Result<()>> {
        let fd = match rustix::fs::openat(
            CWD,
            dir,
            OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
            Mode::from_raw_mode(options.mode),
        ) {
            Ok(fd) => fd,
            // Kernels and file systems without O_TMPFILE answer with one of these.
            Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL | Errno::NOSYS) => return None,
            Err(e) => return Some(Err(e.into())),
        };
        let mut file = File::from(fd);
        let written = file.write_all(bytes).and_then(|()| {
            if options.sync {
                file.sync_data()
            } else {
                Ok(())
            }
        });
        if let Err(e) = written {
            // The unnamed file vanishes when closed: nothing is left behind.
            return Some(Err(e));
        }
        // Linking through /proc needs no privilege (AT_EMPTY_PATH would).
        let proc_path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&file));
        match rustix::fs::linkat(CWD, proc_path.as_str(), CWD, path, AtFlags::SYMLINK_FOLLOW) {
            Ok(()) => Some(Ok(())),
            // An existing file is replaced by a rename; no /proc: the same.
            Err(Errno::EXIST | Errno::NOENT | Errno::PERM | Errno::ACCESS) if dir.is_dir() => None,
            Err(e) => Some(Err(e.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_new_files_and_replaces_old_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write(&path, b"first").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        write(&path, b"second, longer").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second, longer");
        // Nothing but the file itself is left in the directory.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.json")]);
    }

    #[cfg(unix)]
    #[test]
    fn creates_files_with_the_mode_asked_for() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (name, existing) in [("new.key", false), ("old.key", true)] {
            let path = dir.path().join(name);
            if existing {
                std::fs::write(&path, b"old").unwrap();
            }
            let options = Options {
                mode: 0o600,
                sync: true,
            };
            write_with(&path, b"secret", options).unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name}");
            assert_eq!(std::fs::read(&path).unwrap(), b"secret");
        }
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent").join("out.json");
        assert_eq!(
            write(&path, b"x").unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}

//! Writing a file so that readers see either nothing or all of it: attest's
//! outputs, the `files` backend's objects and generated keys.
//!
//! On Linux the bytes go into an unnamed file (`O_TMPFILE`) that is linked
//! under its name once complete. That is one directory operation per file
//! instead of the two of a named temporary file (create it, rename it in),
//! and no name to clean up after a crash; it matters for `attest --output-dir DIR`,
//! where creating files can cost more than the provenance in them (a loop
//! creating 30,000 files measured 32-44 µs per file this way, 37-42 with a
//! rename, on the project's machine). A file that already exists is
//! replaced by linking the unnamed file under a temporary name and renaming
//! that over the target. Where `O_TMPFILE` is not possible (another OS, a
//! file system without it, no `/proc`) a named temporary file is renamed
//! over the target, which is atomic too.
//!
//! Temporary names are `.chains-tmp-PID-...`: a process killed between
//! creating one and renaming it leaves it behind, and the first write of a
//! later process into that directory removes those whose process is gone
//! (a PID still running may be another chains writing there; on systems
//! without `/proc` nothing is removed).

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The start of every temporary name this module creates.
const TMP_PREFIX: &str = ".chains-tmp-";

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
    let dir = dir_of(path);
    clean_once(dir);
    #[cfg(target_os = "linux")]
    if let Some(done) = linux::write_unnamed(dir, path, bytes, options) {
        return done;
    }
    write_renamed(dir, path, bytes, options)
}

/// A named temporary file beside `path`, created with `mode` (before the
/// umask), for a writer that streams (`--output-file`) to fill and then
/// rename over `path` with `persist`. Its name is this module's, so one
/// left by a killed process is cleaned up as [`write`]'s are.
pub fn temp_beside(path: &Path, mode: u32) -> io::Result<tempfile::NamedTempFile> {
    let dir = dir_of(path);
    clean_once(dir);
    temp_in(dir, mode)
}

/// The directory a file is created in (`.` for a bare name).
fn dir_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// This process's temporary-name prefix.
fn own_prefix() -> String {
    format!("{TMP_PREFIX}{}-", std::process::id())
}

/// Remove, once per directory and process, temporary files left there by
/// chains processes that no longer run.
fn clean_once(dir: &Path) {
    static CLEANED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    {
        let mut cleaned = CLEANED.lock().unwrap_or_else(|e| e.into_inner());
        if !cleaned.get_or_insert_default().insert(dir.to_path_buf()) {
            return;
        }
    }
    remove_stale(dir);
}

/// Remove `dir`'s temporary files whose writing process is gone. Errors are
/// ignored: cleaning is a courtesy, and the write that follows reports a
/// directory it cannot use.
fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(TMP_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !process_is_running(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether a process with this PID exists; `true` where that cannot be told.
fn process_is_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

/// A named temporary file in the same directory, renamed over the target.
fn write_renamed(dir: &Path, path: &Path, bytes: &[u8], options: Options) -> io::Result<()> {
    let mut tmp = temp_in(dir, options.mode)?;
    tmp.write_all(bytes)?;
    if options.sync {
        tmp.as_file().sync_data()?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A temporary file in `dir` under this process's prefix, created with `mode`.
fn temp_in(dir: &Path, mode: u32) -> io::Result<tempfile::NamedTempFile> {
    let prefix = own_prefix();
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    builder.tempfile_in(dir)
}

#[cfg(target_os = "linux")]
mod linux {
    use std::fs::File;
    use std::io::{self, Write};
    use std::path::Path;
    use std::sync::atomic::{AtomicU64, Ordering};

    use rustix::fs::{AtFlags, CWD, Mode, OFlags};
    use rustix::io::Errno;

    use super::Options;

    /// Where a replacement stops in tests: after its temporary name is
    /// linked, before the rename (where a kill would leave that name).
    #[cfg(test)]
    pub(super) static STOP_BEFORE_RENAME: std::sync::atomic::AtomicBool =
        std::sync::atomic::AtomicBool::new(false);

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
            Err(Errno::EXIST) => Some(replace(&proc_path, dir, path)),
            // No /proc, or not allowed to link: a named temporary file instead.
            Err(Errno::NOENT | Errno::PERM | Errno::ACCESS) if dir.is_dir() => None,
            Err(e) => Some(Err(e.into())),
        }
    }

    /// Link the complete unnamed file under a temporary name of this
    /// process and rename that over `path`.
    fn replace(proc_path: &str, dir: &Path, path: &Path) -> io::Result<()> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let prefix = super::own_prefix();
        let tmp = loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let tmp = dir.join(format!("{prefix}{n}"));
            match rustix::fs::linkat(CWD, proc_path, CWD, &tmp, AtFlags::SYMLINK_FOLLOW) {
                Ok(()) => break tmp,
                Err(Errno::EXIST) => continue,
                Err(e) => return Err(e.into()),
            }
        };
        #[cfg(test)]
        if STOP_BEFORE_RENAME.load(Ordering::SeqCst) {
            return Err(io::Error::other("stopped before the rename (test)"));
        }
        std::fs::rename(&tmp, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
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

    /// A process killed between linking a replacement under its temporary
    /// name and renaming it leaves that name; the next process to write
    /// into the directory removes it. The kill is simulated by running this
    /// test binary as a child that stops at that point and exits.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_replacement_killed_before_its_rename_is_cleaned_up_by_the_next_writer() {
        use std::sync::atomic::Ordering;
        if let Some(dir) = std::env::var_os("CHAINS_ATOMIC_CRASH_DIR") {
            // The child: replace out.json, stop before the rename, and exit
            // as a killed process would, without cleaning up.
            linux::STOP_BEFORE_RENAME.store(true, Ordering::SeqCst);
            let _ = write(&Path::new(&dir).join("out.json"), b"new");
            std::process::exit(0);
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.json");
        std::fs::write(&out, b"old").unwrap();
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "atomic::tests::a_replacement_killed_before_its_rename_is_cleaned_up_by_the_next_writer",
                "--nocapture",
            ])
            .env("CHAINS_ATOMIC_CRASH_DIR", dir.path())
            .status()
            .unwrap();
        assert!(status.success());
        let names = || -> Vec<String> {
            let mut v: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            v.sort();
            v
        };
        let left = names();
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(left[0].starts_with(TMP_PREFIX), "{left:?}");
        // The old file is intact: readers never saw a partial one.
        assert_eq!(std::fs::read(&out).unwrap(), b"old");
        // The next writer into the directory removes the leftover.
        write(&dir.path().join("other.json"), b"x").unwrap();
        assert_eq!(names(), vec!["other.json", "out.json"]);
    }

    /// Another live process's temporary file is not touched.
    #[test]
    fn temporary_files_of_running_processes_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let ours = dir.path().join(format!("{}0", own_prefix()));
        std::fs::write(&ours, b"being written").unwrap();
        remove_stale(dir.path());
        assert!(ours.exists());
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

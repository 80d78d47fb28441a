//! Writing report files atomically: a temp file in the target's directory, then a rename, so a
//! reader (or a killed run) never sees half a file. Mode 0644: a report publisher running as
//! another user can read it (tempfile creates 0600).

use std::io::Write;
use std::path::Path;

/// The directory a file at `path` lives in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The prefix of every temp file that becomes `path`: `.<name>.partial-`.
fn temp_prefix(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    format!(".{name}.partial-")
}

/// The prefix of this process's temp files for `path`: `.<name>.partial-<pid>-`, so a cleanup
/// can tell a killed writer's leftovers from the temp file of another run writing now.
fn own_temp_prefix(path: &Path) -> String {
    format!("{}{}-", temp_prefix(path), std::process::id())
}

/// Whether the writer of the temp file `name` (after `prefix`) is gone: its process id is not a
/// running process, or the name carries none (an older writer's).
fn writer_is_gone(name: &str, prefix: &str) -> bool {
    let pid = name.strip_prefix(prefix).and_then(|rest| rest.split_once('-')).map(|(pid, _)| pid);
    match pid.and_then(|pid| pid.parse::<u32>().ok()) {
        Some(pid) if Path::new("/proc/self").exists() => !Path::new("/proc").join(pid.to_string()).exists(),
        // Without /proc nothing tells whether the writer still runs: keep all but our own.
        Some(pid) => pid == std::process::id(),
        None => true,
    }
}

/// Writes `bytes` to `path` atomically, creating the directory if needed.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = parent_dir(path);
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::Builder::new().prefix(&own_temp_prefix(path)).tempfile_in(dir)?;
    file.as_file().set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map(drop).map_err(|e| e.error)
}

/// Removes the temp files an earlier, killed writer of `path` left behind (best effort), never
/// those of a writer still running (runs in parallel may share a report path, as cargo-nextest's
/// processes do); returns how many were removed.
pub fn remove_leftovers(path: &Path) -> usize {
    let prefix = temp_prefix(path);
    let Ok(entries) = std::fs::read_dir(parent_dir(path)) else { return 0 };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(&prefix) && writer_is_gone(&name, &prefix)
        })
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn replaces_the_file_whole_and_readable_by_others() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("a/b/report.xml");
        write(&path, b"first").unwrap_or_else(|e| panic!("{e}"));
        write(&path, b"second").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(std::fs::read_to_string(&path).ok().as_deref(), Some("second"));
        assert_eq!(std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777).ok(), Some(0o644));
        assert_eq!(parent_dir(Path::new("junit.xml")), Path::new("."));
    }

    #[test]
    fn leftover_temp_files_of_this_report_only_are_removed() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("junit.xml");
        // A pid no process has (above Linux's pid_max), an older unnumbered writer, this process.
        let running = format!(".junit.xml.partial-{}-abc", std::process::id());
        for name in [".junit.xml.partial-4294967295-abc123", ".junit.xml.partial-x", ".other.xml.partial-1", ".tmp123"]
        {
            std::fs::write(dir.path().join(name), "x").unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(dir.path().join(&running), "x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(remove_leftovers(&path), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        left.sort();
        let mut want = vec![".other.xml.partial-1".to_owned(), ".tmp123".to_owned(), running];
        want.sort();
        assert_eq!(left, want, "a running writer's temp file stays");
    }
}

//! Single flag and environment values: parsing and checking each one, with the error that says
//! what is expected. Called only by `RunConfig::resolve`.

use super::{ConfigError, Env, Target};
use crate::plan::{Partition, Timings};

/// `--double-fault KEY=VALUE...` into the embedded double's fault settings (parsed by the
/// double's own parser, so both spell and check every fault alike).
pub(super) fn parse_faults(specs: &[String], target: &Target) -> Result<Option<fixtures::double::Faults>, ConfigError> {
    if specs.is_empty() {
        return Ok(None);
    }
    if *target != Target::Embedded {
        return Err(ConfigError::Flag(
            "--double-fault applies to the embedded double only; drop --gateway-url / GATEWAY_URL".into(),
        ));
    }
    fixtures::double::Faults::parse(specs.iter().map(String::as_str))
        .map(Some)
        .map_err(|problem| ConfigError::Flag(format!("invalid --double-fault {problem}")))
}

/// Largest timings file read (a JUnit report of thousands of cases is a few MiB).
const MAX_TIMINGS_BYTES: u64 = 64 * 1024 * 1024;

/// Reads recorded durations: `--timings PATH` (must parse), else the previous report at the
/// JUnit path (ignored when absent or unreadable).
pub(super) fn load_timings(
    flag: Option<&std::path::Path>,
    junit: &std::path::Path,
) -> Result<(Timings, String), ConfigError> {
    let (path, explicit) = match flag {
        Some(path) => (path, true),
        None => (junit, false),
    };
    let parsed = read_small_file(path, MAX_TIMINGS_BYTES)
        .and_then(|xml| quick_junit::Report::deserialize_from_str(&xml).map_err(|e| e.to_string()));
    match parsed {
        Ok(report) => {
            let timings: Timings = report
                .test_suites
                .iter()
                .filter(|s| !s.name.as_str().starts_with('@'))
                .flat_map(|s| &s.test_cases)
                .filter(|c| !matches!(c.status, quick_junit::TestCaseStatus::Skipped { .. }))
                .filter_map(|c| c.time.map(|t| (c.name.as_str().to_owned(), t)))
                .collect();
            let source = format!("{} ({} cases)", path.display(), timings.len());
            Ok((timings, source))
        }
        Err(problem) if explicit => Err(ConfigError::Timings { path: path.display().to_string(), problem }),
        Err(_) => Ok((Timings::new(), format!("none (no earlier report at {})", path.display()))),
    }
}

pub(super) fn random_seed() -> u64 {
    let (high, low) = uuid::Uuid::new_v4().as_u64_pair();
    (high ^ low) % 1_000_000
}

/// `--partition`, else `E2E_PARTITION`, else the Kubernetes Indexed Job's shard: with
/// `E2E_SHARDS=N` and `JOB_COMPLETION_INDEX=i` (0-based) this process runs `slice:{i+1}/N`.
pub(super) fn resolve_partition(flag: Option<String>, env: Env<'_>) -> Result<Option<Partition>, ConfigError> {
    if let Some(value) = flag {
        return Ok(Some(Partition::parse(&value)?));
    }
    if let Some(value) = env("E2E_PARTITION").filter(|v| !v.is_empty()) {
        return Partition::parse(&value).map(Some).map_err(|e| ConfigError::Flag(format!("{e} (from E2E_PARTITION)")));
    }
    let (Some(shards), Some(index)) = (env("E2E_SHARDS"), env("JOB_COMPLETION_INDEX")) else { return Ok(None) };
    let index: u32 = index.trim().parse().map_err(|_| {
        ConfigError::Flag(format!(
            "invalid JOB_COMPLETION_INDEX `{index}` (with E2E_SHARDS={shards}): expected the Job's 0-based completion index"
        ))
    })?;
    Partition::parse(&format!("slice:{}/{}", index.saturating_add(1), shards.trim()))
        .map(Some)
        .map_err(|e| ConfigError::Flag(format!("{e} (from E2E_SHARDS={shards} and JOB_COMPLETION_INDEX={index})")))
}

/// Checks an http(s) URL and strips a trailing slash.
pub fn check_url(what: &'static str, value: &str) -> Result<String, ConfigError> {
    // Whatever is wrong with it, an error never shows its credentials or its query (a token may
    // ride in either).
    let fail = |problem: &str| ConfigError::Url { what, value: shown_url(value), problem: problem.to_owned() };
    let parsed = reqwest::Url::parse(value).map_err(|e| fail(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(fail(&format!("scheme `{}` is not http or https", parsed.scheme())));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(fail("it has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Printed in the banner, stored in reports and sent as Basic auth: refuse it outright.
        return Err(fail("it carries a user name or password; give credentials with --token-file instead"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(fail("it has a `?query` or `#fragment`, which would end up in the middle of every path"));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// `url` as an error may show it: no user info, and no query or fragment (replaced by `?***`).
fn shown_url(url: &str) -> String {
    let url = redact_userinfo(url);
    match url.find(['?', '#']) {
        Some(at) => format!("{}{}***", &url[..at], &url[at..=at]),
        None => url,
    }
}

/// `url` with any `user:password@` replaced by `***@` (for error messages about a refused URL).
fn redact_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

/// Most cases in flight at once: far above what one gateway and one machine's sockets serve well.
pub const MAX_JOBS: usize = 1024;

/// `N` or `Nx` (N × CPUs), from 1 to [`MAX_JOBS`].
pub fn parse_jobs(value: &str, cpus: usize, source_name: &'static str) -> Result<usize, ConfigError> {
    let fail = || ConfigError::Jobs { value: value.chars().take(40).collect(), source_name };
    let jobs = match value.trim().strip_suffix('x') {
        Some(factor) => factor.parse::<usize>().map_err(|_| fail())?.saturating_mul(cpus),
        None => value.trim().parse::<usize>().map_err(|_| fail())?,
    };
    if jobs == 0 || jobs > MAX_JOBS { Err(fail()) } else { Ok(jobs) }
}

/// A report path (`--junit`, `--trace`) that can be replaced by a regular file: not ending in `/`,
/// not a directory, device, FIFO or socket, its directory creatable and writable.
pub(crate) fn check_report_path(flag: &'static str, path: &std::path::Path) -> Result<(), ConfigError> {
    let fail = |problem: String| ConfigError::ReportPath { flag, path: path.display().to_string(), problem };
    if path.as_os_str().to_string_lossy().ends_with('/') {
        return Err(fail("it ends in `/`, so it names a directory, not a file".into()));
    }
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => return Err(fail("it is a directory".into())),
        Ok(meta) if !meta.is_file() => {
            return Err(fail("it is not a regular file (a device, FIFO or socket), so it is not replaced".into()));
        }
        _ => {}
    }
    let dir = crate::report::atomic::parent_dir(path);
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    tempfile::NamedTempFile::new_in(dir).map(drop).map_err(|e| fail(format!("{} is not writable: {e}", dir.display())))
}

/// Whether two report paths name one file (they need not exist yet): same directory, same name.
pub(super) fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    let resolve = |p: &std::path::Path| {
        let dir = crate::report::atomic::parent_dir(p);
        (std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()), p.file_name().map(ToOwned::to_owned))
    };
    resolve(a) == resolve(b)
}

/// Longest token file read: a ServiceAccount token is a few KiB.
const MAX_TOKEN_BYTES: u64 = 64 * 1024;

/// Reads a regular file of at most `limit` bytes (a FIFO or device would block or never end).
pub(crate) fn read_small_file(path: &std::path::Path, limit: u64) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    if meta.len() > limit {
        return Err(format!("it holds {} bytes, more than the {limit} allowed", meta.len()));
    }
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}

pub(super) fn read_token(path: &std::path::Path) -> Result<String, ConfigError> {
    let fail = |problem: String| ConfigError::Token { path: path.display().to_string(), problem };
    let token = read_small_file(path, MAX_TOKEN_BYTES).map_err(fail)?.trim().to_owned();
    if token.is_empty() {
        return Err(fail("the file is empty".into()));
    }
    // Only a header-safe token: no line breaks, NUL or other control or non-ASCII bytes.
    if let Some(bad) = token.bytes().position(|b| !b.is_ascii_graphic()) {
        return Err(fail(format!(
            "byte {bad} of the token is not visible ASCII (one line, no spaces or control bytes)"
        )));
    }
    Ok(token)
}

//! docs/hardening.md stays honest: every test it names (`path/file.rs::test`, or `::test` for the
//! file named just before) exists as a function in that file.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, recursively (skipping `target`).
fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && !path.ends_with("target") {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_test_the_hardening_table_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let doc = std::fs::read_to_string(root.join("docs/hardening.md")).unwrap_or_else(|e| panic!("{e}"));
    let mut files = Vec::new();
    for crate_dir in ["runner", "fixtures", "suites"] {
        rust_files(&root.join(crate_dir), &mut files);
    }
    let named = regex::Regex::new(r"`([\w./-]*\.rs)?::(\w+)`").unwrap_or_else(|e| panic!("{e}"));
    let (mut file, mut checked) = (None::<String>, 0);
    for found in named.captures_iter(&doc) {
        if let Some(given) = found.get(1) {
            file = Some(given.as_str().to_owned());
        }
        let (Some(file), Some(name)) = (&file, found.get(2)) else { continue };
        let matches: Vec<&PathBuf> = files.iter().filter(|p| p.ends_with(file)).collect();
        assert_eq!(matches.len(), 1, "`{file}` names {} files: {matches:?}", matches.len());
        let source = std::fs::read_to_string(matches[0]).unwrap_or_default();
        let name = name.as_str();
        assert!(
            source.contains(&format!("fn {name}(")),
            "docs/hardening.md names {file}::{name}, which does not exist"
        );
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} test names found in docs/hardening.md");
}

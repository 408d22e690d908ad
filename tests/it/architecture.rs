//! The house rules of `src/`, checked on every test run: no file a newcomer cannot read
//! in one sitting (600 lines), a short `main.rs`, a module doc opening every file,
//! `anyhow` only in `cli/`, and no circle in the imports between modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::project;

/// Every source file: its module path (`["plan", "write"]`; `[]` for lib.rs and
/// main.rs) and its text.
fn sources() -> Vec<(String, Vec<String>, String)> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = project().join("src");
    let mut paths = Vec::new();
    walk(&src, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(&src).unwrap().with_extension("");
            let mut module: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|m| m == "mod") || module == ["lib"] || module == ["main"]
            {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            (relative.display().to_string(), module, text)
        })
        .collect()
}

/// The code before the unit tests of a file.
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |at| &text[..at])
}

#[test]
fn files_are_short_documented_and_anyhow_stays_in_the_cli() {
    let mut problems = Vec::new();
    for (file, module, text) in sources() {
        let lines = text.lines().count();
        if lines > 600 {
            problems.push(format!("src/{file}.rs has {lines} lines (at most 600)"));
        }
        if !text.starts_with("//!") {
            problems.push(format!(
                "src/{file}.rs does not open with a `//!` module doc"
            ));
        }
        if text.contains("anyhow") && module.first().map(String::as_str) != Some("cli") {
            problems.push(format!("src/{file}.rs uses anyhow outside `cli/`"));
        }
        if file == "main" && lines > 20 {
            problems.push(format!("src/main.rs has {lines} lines (at most 20)"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e` (spaces removed first).
fn expand(path: &str) -> Vec<String> {
    let Some(open) = path.find('{') else {
        return vec![path.to_string()];
    };
    let (prefix, inner) = (&path[..open], &path[open + 1..path.len() - 1]);
    let mut parts = Vec::new();
    let (mut depth, mut current) = (0, String::new());
    for c in inner.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(&format!("{prefix}{p}")))
        .collect()
}

/// The paths a file names: its `use crate::…`/`use super::…` items and inline
/// `crate::a::b` paths, each as absolute segments.
fn named_paths(module: &[String], code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let after = &rest[at + 4..];
        rest = after;
        if !(after.starts_with("crate::") || after.starts_with("super::")) {
            continue;
        }
        let end = after.find(';').unwrap_or(after.len());
        let compact: String = after[..end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        paths.extend(expand(&compact));
    }
    for (at, _) in code.match_indices("crate::") {
        let tail: String = code[at..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        paths.push(tail);
    }
    paths
        .into_iter()
        .map(|path| {
            let path = path.split("as").next().unwrap_or(&path).to_string();
            let mut segments: Vec<String> = Vec::new();
            let mut parts = path.split("::").filter(|s| !s.is_empty()).peekable();
            match parts.peek().copied() {
                Some("crate") => {
                    parts.next();
                }
                _ => segments.extend(module.iter().cloned()),
            }
            for part in parts {
                match part {
                    "super" => {
                        segments.pop();
                    }
                    "self" | "*" => {}
                    other => segments.push(other.to_string()),
                }
            }
            segments
        })
        .collect()
}

type Edges = BTreeMap<Vec<String>, BTreeSet<Vec<String>>>;

/// Depth-first search for a path back to where it started.
fn cycle_from(
    node: &[String],
    edges: &Edges,
    path: &mut Vec<Vec<String>>,
    done: &mut BTreeSet<Vec<String>>,
) -> Option<Vec<Vec<String>>> {
    if let Some(at) = path.iter().position(|p| p.as_slice() == node) {
        return Some(path[at..].to_vec());
    }
    if !done.insert(node.to_vec()) {
        return None;
    }
    path.push(node.to_vec());
    for next in edges.get(node).into_iter().flatten() {
        if let Some(cycle) = cycle_from(next, edges, path, done) {
            return Some(cycle);
        }
    }
    path.pop();
    None
}

#[test]
fn no_module_imports_another_that_imports_it_back() {
    let files = sources();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|(_, m, _)| m.clone()).collect();
    // Which modules define a public (to the crate) item of each name.
    let mut defined: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for (_, module, text) in &files {
        for line in without_tests(text).lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let Some(first) = words.first() else { continue };
            if !first.starts_with("pub") {
                continue;
            }
            let mut rest = words[1..]
                .iter()
                .copied()
                .skip_while(|w| *w == "async" || *w == "unsafe")
                .peekable();
            let mut kind = rest.next();
            if kind == Some("const") && rest.peek() == Some(&"fn") {
                kind = rest.next();
            }
            if let (Some(kind), Some(name)) = (kind, rest.next()) {
                if ["struct", "enum", "fn", "const", "trait", "type", "static"].contains(&kind) {
                    let name: String = name
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    defined.entry(name).or_default().push(module.clone());
                }
            }
        }
    }
    // The module a path lands in: the item's defining module when the path names an
    // item re-exported by a folder's `mod.rs`, else the longest module prefix.
    let resolve = |path: &[String]| -> Option<Vec<String>> {
        (1..=path.len()).rev().find_map(|k| {
            let prefix = &path[..k];
            if !modules.contains(prefix) {
                return None;
            }
            let item_home = path.get(k).and_then(|item| {
                defined
                    .get(item)?
                    .iter()
                    .find(|m| m.starts_with(prefix))
                    .cloned()
            });
            Some(item_home.unwrap_or_else(|| prefix.to_vec()))
        })
    };
    let mut edges: Edges = BTreeMap::new();
    for (_, module, text) in &files {
        if module.last().is_some_and(|m| m == "tests") {
            continue;
        }
        let targets = named_paths(module, without_tests(text))
            .iter()
            .filter_map(|p| resolve(p))
            .filter(|t| t != module)
            .collect();
        edges.insert(module.clone(), targets);
    }
    let mut done = BTreeSet::new();
    for module in edges.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = cycle_from(module, &edges, &mut path, &mut done) {
            let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
            panic!("import circle: {} → back to the first", names.join(" → "));
        }
    }
    assert!(
        edges.len() > 50,
        "the walk found the modules: {}",
        edges.len()
    );
}

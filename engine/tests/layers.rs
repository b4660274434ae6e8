//! The engine's layers import one way, proved from its source files.
//!
//! Every `crate::…`, `super::…` and `self::…` path in `src/` (outside
//! comments, `use` groups expanded) is resolved to the file module it names.
//! Then:
//! - a top-level module may only name modules listed before it in [`LAYERS`]
//!   (so there is no upward import and no cycle between top-level modules);
//! - the file modules have no cycle among them (test code aside: a file's
//!   `#[cfg(test)]` tail and `tests.rs` files may reach anything below).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first, each a list of top-level modules; a module may
/// import the modules listed before it (in its own layer or a lower one).
const LAYERS: &[(&str, &[&str])] = &[
    (
        "ground",
        &["error", "cpu", "cfa", "metadata", "image", "raw"],
    ),
    ("decode", &["decode"]),
    ("colour maths", &["color"]),
    ("encoders", &["encode"]),
    ("stages", &["stages"]),
    ("demosaic", &["demosaic"]),
    ("plain-data options and recipes", &["recipe"]),
    ("development: planner, paths, rendering", &["develop"]),
];

/// A module path from the crate root, e.g. `["stages", "resize"]`.
type ModPath = Vec<String>;

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rank(top: &str) -> Option<usize> {
    LAYERS
        .iter()
        .flat_map(|(_, mods)| mods.iter())
        .position(|m| *m == top)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The module a file defines: `stages/resize/mod.rs` → `stages::resize`.
fn module_of(rel: &Path) -> ModPath {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// The longest prefix of `path` that is a file module.
fn resolve_file(path: &[String]) -> Option<ModPath> {
    let src = src_dir();
    let mut found = None;
    let mut dir = src.clone();
    for (i, seg) in path.iter().enumerate() {
        if dir.join(format!("{seg}.rs")).is_file() || dir.join(seg).join("mod.rs").is_file() {
            found = Some(path[..=i].to_vec());
            dir = dir.join(seg);
        } else {
            break;
        }
    }
    found
}

/// Every `crate::`/`super::`/`self::` path of `code`, `use` groups expanded.
fn paths(code: &str) -> Vec<String> {
    let mut text = String::new();
    for line in code.lines() {
        let code = match line.find("//") {
            Some(at) if !line[..at].ends_with(':') => &line[..at],
            _ => line,
        };
        text.push_str(code);
        text.push('\n');
    }
    let text = text.replace("$crate", "crate");
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let starts = ["crate::", "super::", "self::"]
            .iter()
            .find(|p| text_at(&bytes, i, p) && (i == 0 || !ident(bytes[i - 1])));
        let Some(p) = starts else {
            i += 1;
            continue;
        };
        // Read a path: identifiers and `::`, then maybe one `{…}` group.
        let mut j = i + p.len();
        let mut prefix: String = p.to_string();
        loop {
            let k = j;
            while j < bytes.len() && ident(bytes[j]) {
                j += 1;
            }
            prefix.extend(&bytes[k..j]);
            if text_at(&bytes, j, "::") {
                prefix.push_str("::");
                j += 2;
                if j < bytes.len() && bytes[j] == '{' {
                    let end = (j..bytes.len()).find(|&e| bytes[e] == '}').unwrap_or(j);
                    let group: String = bytes[j + 1..end].iter().collect();
                    for item in group.split(',') {
                        let item = item.split(" as ").next().unwrap_or("").trim();
                        if !item.is_empty() {
                            out.push(format!("{prefix}{item}"));
                        }
                    }
                    j = end;
                    prefix.clear();
                    break;
                }
                continue;
            }
            break;
        }
        if !prefix.is_empty() {
            out.push(prefix.trim_end_matches("::").to_string());
        }
        i = j.max(i + 1);
    }
    out
}

fn text_at(chars: &[char], i: usize, pat: &str) -> bool {
    pat.chars()
        .enumerate()
        .all(|(k, c)| chars.get(i + k) == Some(&c))
}

/// The file module `path` (as written in module `here`) names.
fn target(here: &ModPath, path: &str) -> Option<ModPath> {
    let mut segs = path.split("::").map(str::to_string);
    let mut base: ModPath = match segs.next()?.as_str() {
        "crate" => Vec::new(),
        "self" => here.clone(),
        "super" => here[..here.len().checked_sub(1)?].to_vec(),
        _ => return None,
    };
    let mut rest: Vec<String> = segs.collect();
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest.remove(0);
    }
    if base.is_empty() && rest.first().is_some_and(|s| s == "internals") {
        rest.remove(0);
    }
    base.extend(rest.into_iter().filter(|s| s != "self" && s != "*"));
    resolve_file(&base)
}

struct Scan {
    /// (from module, to module, test code?) for every path between two files.
    edges: Vec<(ModPath, ModPath, bool)>,
    files: usize,
}

fn scan() -> Scan {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("inside src");
        if rel == Path::new("lib.rs") {
            continue;
        }
        let here = module_of(rel);
        let code = std::fs::read_to_string(file).expect("read");
        let whole_test = rel.file_name().is_some_and(|n| n == "tests.rs");
        let split = code.find("#[cfg(test)]\nmod ").unwrap_or(code.len());
        for (part, test) in [(&code[..split], whole_test), (&code[split..], true)] {
            for p in paths(part) {
                // In a file's test module `super` is the file itself.
                let from = if test && !whole_test && p.starts_with("super::") {
                    let mut m = here.clone();
                    m.push("tests".into());
                    m
                } else {
                    here.clone()
                };
                if let Some(to) = target(&from, &p) {
                    if to != here {
                        edges.push((here.clone(), to, test));
                    }
                }
            }
        }
    }
    Scan {
        edges,
        files: files.len(),
    }
}

#[test]
fn layers_import_downward_only() {
    let scan = scan();
    assert!(scan.files > 40, "found only {} files", scan.files);
    assert!(!scan.edges.is_empty());
    let mut bad = BTreeSet::new();
    for (from, to, _) in &scan.edges {
        let (f, t) = (&from[0], &to[0]);
        if f == t {
            continue;
        }
        match (rank(f), rank(t)) {
            (Some(a), Some(b)) if b < a => {}
            (None, _) => {
                bad.insert(format!("{f} is in no layer"));
            }
            (_, None) => {
                bad.insert(format!("{t} is in no layer"));
            }
            _ => {
                bad.insert(format!(
                    "{} imports {} (upward)",
                    from.join("::"),
                    to.join("::")
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "layer violations:\n{}",
        Vec::from_iter(bad).join("\n")
    );
}

#[test]
fn file_modules_have_no_import_cycle() {
    let scan = scan();
    let mut graph: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for (from, to, test) in &scan.edges {
        // A module naming an item of its own parent (`super::X` from a
        // child) is how children use the types they serve; parents reach
        // children through `mod`, never through these paths.
        if !test && !to.is_empty() && !from.starts_with(to) {
            graph.entry(from.clone()).or_default().insert(to.clone());
        }
    }
    // Depth-first search for a back edge.
    fn visit(
        n: &ModPath,
        g: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        state: &mut BTreeMap<ModPath, u8>,
        stack: &mut Vec<ModPath>,
    ) -> Option<Vec<ModPath>> {
        match state.get(n) {
            Some(2) => return None,
            Some(1) => {
                let at = stack.iter().position(|m| m == n).unwrap_or(0);
                let mut cycle = stack[at..].to_vec();
                cycle.push(n.clone());
                return Some(cycle);
            }
            _ => {}
        }
        state.insert(n.clone(), 1);
        stack.push(n.clone());
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, state, stack) {
                return Some(c);
            }
        }
        stack.pop();
        state.insert(n.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if let Some(cycle) = visit(n, &graph, &mut state, &mut Vec::new()) {
            let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
            panic!("import cycle: {}", names.join(" → "));
        }
    }
}

#[test]
fn the_checker_sees_paths_and_groups() {
    let p = paths("use crate::color::{matrix as color, space};\nuse super::tile::Scratch; // crate::x\n// crate::develop::y\nlet f = $crate::cpu::Isa::PORTABLE;");
    assert_eq!(
        p,
        [
            "crate::color::matrix",
            "crate::color::space",
            "super::tile::Scratch",
            "crate::cpu::Isa::PORTABLE"
        ]
    );
    let here = vec!["stages".to_string(), "white_balance".to_string()];
    assert_eq!(
        target(&here, "super::levels::SensorData"),
        Some(vec!["stages".into(), "levels".into()])
    );
    assert_eq!(
        target(&here, "crate::color::transfer::srgb_decode"),
        Some(vec!["color".into(), "transfer".into()])
    );
}

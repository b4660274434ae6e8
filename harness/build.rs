//! Records the git commit the binary is built from, for `rawflow --version`:
//! env `RAWFLOW_GIT_COMMIT` if set (builds from a source archive), else
//! `git rev-parse HEAD` (the commit, not uncommitted changes), else
//! `unknown` (no `.git`, or no git).

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-env-changed=RAWFLOW_GIT_COMMIT");
    let commit = match std::env::var("RAWFLOW_GIT_COMMIT") {
        Ok(c) if !c.is_empty() => c,
        _ => match git(&["rev-parse", "--short=12", "HEAD"]) {
            Some(c) => {
                // Rebuild when HEAD moves: the HEAD file, the branch it names, packed refs.
                for path in ["HEAD", "packed-refs"]
                    .into_iter()
                    .map(str::to_owned)
                    .chain(git(&["symbolic-ref", "-q", "HEAD"]))
                {
                    if let Some(p) = git(&["rev-parse", "--git-path", &path]) {
                        let p = PathBuf::from(p);
                        if p.exists() {
                            println!("cargo:rerun-if-changed={}", p.display());
                        }
                    }
                }
                c
            }
            None => "unknown".to_owned(),
        },
    };
    println!("cargo:rustc-env=RAWFLOW_GIT_COMMIT={commit}");
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_owned());
    println!("cargo:rustc-env=RAWFLOW_BUILD_TARGET={target}");
}

//! Stamps the code version (crate version + git commit) into the build: it is part of every
//! training fingerprint and model lineage.

use std::path::Path;
use std::process::Command;

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_owned());
    let code_version = match commit {
        Some(commit) if !commit.is_empty() => format!("{version}+{commit}"),
        _ => version.to_owned(),
    };
    println!("cargo:rustc-env=MLOPS_CODE_VERSION={code_version}");
    // Rebuild when the commit changes: HEAD itself, and the branch it points at.
    let git = Path::new("../.git");
    if git.join("HEAD").exists() {
        println!("cargo:rerun-if-changed=../.git/HEAD");
        if let Ok(head) = std::fs::read_to_string(git.join("HEAD")) {
            if let Some(reference) = head.strip_prefix("ref: ") {
                println!("cargo:rerun-if-changed=../.git/{}", reference.trim());
            }
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}

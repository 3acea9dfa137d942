//! Bakes the commit the binary is built from into `PROVIDER_API_COMMIT` (for
//! `provider_api_build_info`): the variable of that name when set (a Docker build without
//! `.git` passes it as a build argument), else `git rev-parse`, else `unknown`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PROVIDER_API_COMMIT");
    let commit = std::env::var("PROVIDER_API_COMMIT")
        .ok()
        .or_else(git_commit)
        .filter(|c| !c.is_empty() && c.len() <= 40 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=PROVIDER_API_COMMIT={commit}");
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn git_commit() -> Option<String> {
    // Rebuild when HEAD moves: a commit or a checkout rewrites these files.
    for file in ["HEAD", "logs/HEAD"] {
        if let Some(path) = git(&["rev-parse", "--git-path", file]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    git(&["rev-parse", "--short=12", "HEAD"])
}

//! Fingerprints the migrations so that test template databases are rebuilt when they change
//! (`testing::TestDb` names its template after this hash), and makes cargo rebuild the crate,
//! which embeds them, whenever a migration is added or edited.

use std::fs;
use std::path::{Path, PathBuf};

/// FNV-1a, 64 bits: tiny, stable across Rust releases (unlike `DefaultHasher`), good enough to
/// tell two sets of migration files apart.
fn fnv1a(hash: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *hash ^= u64::from(*b);
        *hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut all = Vec::new();
    files(&dir, &mut all);
    all.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for path in &all {
        let relative = path.strip_prefix(&dir).unwrap_or(path);
        fnv1a(&mut hash, relative.to_string_lossy().as_bytes());
        fnv1a(&mut hash, &[0]);
        fnv1a(&mut hash, &fs::read(path).unwrap_or_default());
        fnv1a(&mut hash, &[0]);
    }
    println!("cargo:rustc-env=PROVIDER_MIGRATIONS_HASH={hash:016x}");
}

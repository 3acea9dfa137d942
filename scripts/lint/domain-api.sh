#!/usr/bin/env bash
# Fails when provider-domain's public API breaks a user of the crate without a version that
# says so: cargo-semver-checks compares the crate's rustdoc JSON now with its last release's,
# built from git, and runs its lints (an item removed or renamed, a field added to a struct
# users can build, a trait bound tightened, ...). `make lint` runs it.
#
#   scripts/lint/domain-api.sh            against the last release (BASELINE below)
#   DOMAIN_API_BASELINE=REV scripts/lint/domain-api.sh    against another git revision
#
# A change that breaks users passes once crates/domain/Cargo.toml's version is raised as semver
# asks (0.1.x to 0.2.0 while below 1.0), with its entry in CHANGELOG.md. When that version is
# released, move BASELINE to the release's commit on main.
set -euo pipefail
cd "$(dirname "$0")/../.."

# provider-domain 0.1.0: the API as merged into main before issue 22 (main at 8c53787).
BASELINE=8c53787109c84815a3d5eb616a5d54e675c62332
rev=${DOMAIN_API_BASELINE:-$BASELINE}

if ! git cat-file -e "$rev^{commit}" 2>/dev/null; then
    echo "domain-api: the baseline commit $rev is not in this clone" >&2
    if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
        echo "domain-api: the clone is shallow; fetch the history (git fetch --unshallow)" >&2
    fi
    exit 1
fi

cargo semver-checks --package provider-domain --baseline-rev "$rev"

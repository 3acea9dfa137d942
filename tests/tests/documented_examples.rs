//! The curl examples of README.md and docs/API.md, run against the real binary on each store
//! and checked answer by answer (see `provider_e2e_tests::examples`): the documents cannot
//! drift from what the server does.

use provider_e2e_tests::examples::run_page;
use provider_e2e_tests::Server;
use provider_postgres_adapter::testing::TestDb;
use std::path::PathBuf;

fn page(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name)
}

/// The moderator of docs/API.md's moderation examples.
const DOCUMENTED_MODERATOR: (&str, &str) =
    ("MODERATOR_IDS", "5f8b2c1e-7a9d-4e3b-8c6f-1a2b3c4d5e6f");

fn on_memory(name: &str) {
    let server = Server::start(&[DOCUMENTED_MODERATOR]);
    let ran = run_page(&page(name), &server.base).unwrap_or_else(|e| panic!("{e}"));
    assert!(ran > 0);
}

async fn on_postgres(name: &str) {
    let db = TestDb::new().await;
    let server = Server::start(&[("DATABASE_URL", db.url()), DOCUMENTED_MODERATOR]);
    let base = server.base.clone();
    let path = page(name);
    tokio::task::spawn_blocking(move || run_page(&path, &base))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"));
    drop(server);
}

#[test]
fn readme_examples_answer_as_shown_on_memory() {
    on_memory("README.md");
}

#[test]
fn api_reference_examples_answer_as_shown_on_memory() {
    on_memory("docs/API.md");
}

#[tokio::test]
async fn readme_examples_answer_as_shown_on_postgres() {
    on_postgres("README.md").await;
}

#[tokio::test]
async fn api_reference_examples_answer_as_shown_on_postgres() {
    on_postgres("docs/API.md").await;
}

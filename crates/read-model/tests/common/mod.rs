//! What the read model's drills share.

/// A connection of its own to the test database, outside any store: a drill holds a
/// transaction open on it while the model catches up.
pub async fn session(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
}

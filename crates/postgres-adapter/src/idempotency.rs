//! [`IdempotencyRepository`] for [`PgStore`]: the table `idempotency_keys` (see its migration
//! for the columns, the expiry index and the batch deletion of expired rows).
//!
//! A claim is an `INSERT ... ON CONFLICT DO UPDATE ... WHERE <the row is dead>`: PostgreSQL
//! makes concurrent claims of one key wait for each other, so exactly one inserts (or takes
//! over a dead row) and the others see its row. When nothing was claimed, a second statement
//! (a new snapshot, so it sees that row committed) reads what the row says.

use crate::error::repo_error;
use crate::schema::idempotency_keys;
use crate::PgStore;
use async_trait::async_trait;
use diesel::sql_types::{Bytea, Timestamptz, Uuid as SqlUuid};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use provider_ports::idempotency::{RECLAIM_PENDING_AFTER, RETENTION};
use provider_ports::{
    Claim, ClaimToken, Completion, IdempotencyRepository, IdempotentRequest, RepoError,
    StoredAnswer,
};
use time::OffsetDateTime;

/// Expired rows each claim deletes at most: more than the one row a claim may add, so that
/// deletion keeps up with any rate of claims.
const EXPIRED_PER_CLAIM: i64 = 16;

/// Times a claim tries when the row it conflicted with is gone before it could be read (its
/// holder released it meanwhile); past them it answers "in flight".
const CLAIM_ATTEMPTS: usize = 3;

/// The token of a row just claimed.
#[derive(Debug, QueryableByName)]
struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    #[allow(dead_code)] // Its presence is the answer.
    token: uuid::Uuid,
}

/// What a record holds, read back: its fingerprint, and its answer once completed.
type RecordRow = (Vec<u8>, Option<Vec<u8>>);

/// Deletes a few expired rows, oldest first, through `idempotency_keys_expires_at_idx`; rows
/// another transaction holds are skipped (never waited for).
async fn delete_expired(
    conn: &mut AsyncPgConnection,
    now: OffsetDateTime,
) -> Result<(), RepoError> {
    diesel::sql_query(
        "DELETE FROM idempotency_keys WHERE (caller_id, key) IN (\
           SELECT caller_id, key FROM idempotency_keys WHERE expires_at <= $1 \
           ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<diesel::sql_types::BigInt, _>(EXPIRED_PER_CLAIM)
    .execute(conn)
    .await
    .map_err(repo_error)?;
    Ok(())
}

/// Inserts a pending row for `request`, or takes over its row when that is dead (expired, or
/// pending since before `stale_before`). True when this claim holds the key now.
async fn insert_or_take_over(
    conn: &mut AsyncPgConnection,
    request: &IdempotentRequest,
    token: ClaimToken,
    now: OffsetDateTime,
) -> Result<bool, RepoError> {
    let claimed: Vec<Claimed> = diesel::sql_query(
        "INSERT INTO idempotency_keys \
           (caller_id, key, fingerprint, token, claimed_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (caller_id, key) DO UPDATE SET \
           fingerprint = EXCLUDED.fingerprint, token = EXCLUDED.token, \
           claimed_at = EXCLUDED.claimed_at, expires_at = EXCLUDED.expires_at, \
           answer = NULL \
         WHERE idempotency_keys.expires_at <= EXCLUDED.claimed_at \
            OR (idempotency_keys.answer IS NULL AND idempotency_keys.claimed_at <= $7) \
         RETURNING token",
    )
    .bind::<SqlUuid, _>(request.caller.as_uuid())
    .bind::<diesel::sql_types::Text, _>(request.key.as_str())
    .bind::<Bytea, _>(request.fingerprint.as_bytes().as_slice())
    .bind::<SqlUuid, _>(token.0)
    .bind::<Timestamptz, _>(now)
    .bind::<Timestamptz, _>(now + RETENTION)
    .bind::<Timestamptz, _>(now - RECLAIM_PENDING_AFTER)
    .load(conn)
    .await
    .map_err(repo_error)?;
    Ok(!claimed.is_empty())
}

/// Keeps `answer` on the pending claim `token` holds on `request`'s key; whether it held one
/// (a claim taken over is left to its new holder).
async fn complete_claim(
    conn: &mut AsyncPgConnection,
    request: &IdempotentRequest,
    token: ClaimToken,
    answer: &StoredAnswer,
    now: OffsetDateTime,
) -> diesel::QueryResult<bool> {
    let updated = diesel::update(
        idempotency_keys::table
            .find((request.caller.as_uuid(), request.key.as_str()))
            .filter(idempotency_keys::token.eq(token.0))
            .filter(idempotency_keys::answer.is_null()),
    )
    .set((
        idempotency_keys::answer.eq(answer.as_bytes()),
        idempotency_keys::expires_at.eq(now + RETENTION),
    ))
    .execute(conn)
    .await?;
    Ok(updated == 1)
}

/// Completes `completion`'s claim inside the caller's transaction, which must then commit the
/// write the answer is of; whether its token still held the claim (when not, the caller rolls
/// back: another request took the key over and may be writing the same thing). Run it first
/// in the transaction: the key's row then stays locked until the commit, so a concurrent
/// takeover waits, and finds the key completed.
pub(crate) async fn complete_in(
    conn: &mut AsyncPgConnection,
    completion: &Completion,
) -> diesel::QueryResult<bool> {
    complete_claim(
        conn,
        &completion.request,
        completion.token,
        &completion.answer,
        completion.now,
    )
    .await
}

/// The refusal of a write whose claim was taken over (see [`complete_in`]).
pub(crate) fn claim_taken_over() -> RepoError {
    RepoError::Unavailable("the idempotency key's claim was taken over by another request".into())
}

#[async_trait]
impl IdempotencyRepository for PgStore {
    async fn claim(
        &self,
        request: &IdempotentRequest,
        token: ClaimToken,
        now: OffsetDateTime,
    ) -> Result<Claim, RepoError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            let conn: &mut AsyncPgConnection = &mut conn;
            delete_expired(conn, now).await?;
            for _ in 0..CLAIM_ATTEMPTS {
                if insert_or_take_over(conn, request, token, now).await? {
                    return Ok(Claim::Claimed);
                }
                let row: Option<RecordRow> = idempotency_keys::table
                    .find((request.caller.as_uuid(), request.key.as_str()))
                    .select((idempotency_keys::fingerprint, idempotency_keys::answer))
                    .get_result(conn)
                    .await
                    .optional()
                    .map_err(repo_error)?;
                // Gone meanwhile (released): try again.
                let Some((fingerprint, answer)) = row else {
                    continue;
                };
                if fingerprint.as_slice() != request.fingerprint.as_bytes().as_slice() {
                    return Ok(Claim::Mismatch);
                }
                return Ok(match answer {
                    Some(answer) => Claim::Completed(StoredAnswer::from_bytes(answer)),
                    None => Claim::InFlight,
                });
            }
            Ok(Claim::InFlight)
        })
        .await
    }

    async fn complete(
        &self,
        request: &IdempotentRequest,
        token: ClaimToken,
        answer: &StoredAnswer,
        now: OffsetDateTime,
    ) -> Result<(), RepoError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            complete_claim(&mut conn, request, token, answer, now)
                .await
                .map_err(repo_error)?;
            Ok(())
        })
        .await
    }

    async fn release(
        &self,
        request: &IdempotentRequest,
        token: ClaimToken,
    ) -> Result<(), RepoError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            diesel::delete(
                idempotency_keys::table
                    .find((request.caller.as_uuid(), request.key.as_str()))
                    .filter(idempotency_keys::token.eq(token.0))
                    .filter(idempotency_keys::answer.is_null()),
            )
            .execute(&mut *conn)
            .await
            .map_err(repo_error)?;
            Ok(())
        })
        .await
    }
}

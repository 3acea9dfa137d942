//! How fresh a read must be: what the caller of a use case may demand of the stores' reads,
//! without the use cases or the repository traits carrying it as an argument.
//!
//! The driving side (the HTTP layer) runs each request inside [`with_read_consistency`]; a
//! store that can serve reads from somewhere that lags (a replica) asks [`read_consistency`]
//! how far it may lag. A store with one copy of the data ignores it: every read it makes is
//! [`ReadConsistency::ReadYourWrites`] already.
//!
//! A task-local rather than an argument on every read port: the demand is a property of the
//! request, like its trace, and only one adapter acts on it; the ports keep their shape and
//! know nothing of how many databases there are.

use std::future::Future;

/// What a read must reflect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadConsistency {
    /// Every write acknowledged before the read started (by anyone): what an identified caller
    /// gets, so that they always see their own writes. The default, for reads made outside any
    /// [`with_read_consistency`] scope.
    #[default]
    ReadYourWrites,
    /// The data as it was a bounded time ago (the store's own lag bound): what an anonymous
    /// caller gets.
    BoundedStaleness,
}

tokio::task_local! {
    static CONSISTENCY: ReadConsistency;
}

/// Runs `work` with every store read inside it (in the same task) held to `consistency`.
pub async fn with_read_consistency<F: Future>(consistency: ReadConsistency, work: F) -> F::Output {
    CONSISTENCY.scope(consistency, work).await
}

/// The consistency the current task's reads must have: the innermost
/// [`with_read_consistency`], else [`ReadConsistency::ReadYourWrites`].
pub fn read_consistency() -> ReadConsistency {
    CONSISTENCY.try_with(|c| *c).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_outside_any_scope_must_see_every_write() {
        assert_eq!(read_consistency(), ReadConsistency::ReadYourWrites);
    }

    #[tokio::test]
    async fn the_innermost_scope_decides() {
        let seen = with_read_consistency(ReadConsistency::BoundedStaleness, async {
            let inner = with_read_consistency(ReadConsistency::ReadYourWrites, async {
                read_consistency()
            })
            .await;
            (read_consistency(), inner)
        })
        .await;
        assert_eq!(
            seen,
            (
                ReadConsistency::BoundedStaleness,
                ReadConsistency::ReadYourWrites
            )
        );
        assert_eq!(read_consistency(), ReadConsistency::ReadYourWrites);
    }
}

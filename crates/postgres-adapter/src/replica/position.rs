//! The primary's WAL position for identified reads, one query at a time per process.
//!
//! A read that must see every acknowledged write needs a position of the primary read after
//! it arrived: any position read later is as good (it is further on). So a query serves every
//! read that arrived before it was sent, and reads that arrive while one is on its way wait
//! for the next, which is sent as soon as the current one answers. However many identified
//! reads arrive, the primary answers at most one position query per round trip per process;
//! a read waits at most two round trips instead of one.

use provider_ports::RepoError;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::watch;

/// A query's answer, shared by the reads it serves ([`RepoError`] is not `Clone`: its kind
/// and message are kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    Position(i64),
    Unavailable(String),
    Unexpected(String),
}

impl Answer {
    /// The answer of one query, from the error it may have ended with.
    pub(crate) fn of(result: Result<i64, RepoError>) -> Self {
        match result {
            Ok(position) => Self::Position(position),
            Err(RepoError::Unavailable(error)) => Self::Unavailable(error.to_string()),
            Err(error) => Self::Unexpected(error.to_string()),
        }
    }

    fn into_result(self) -> Result<i64, RepoError> {
        match self {
            Self::Position(position) => Ok(position),
            Self::Unavailable(message) => Err(RepoError::Unavailable(message.into())),
            Self::Unexpected(message) => Err(RepoError::Unexpected(message.into())),
        }
    }
}

/// One position query: a checkout of a primary connection and the `SELECT`.
pub(crate) type Query = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Answer> + Send>> + Send + Sync>;

/// Coalesced position reads. Cheap to clone: clones share the queue.
#[derive(Clone)]
pub(crate) struct Positions(Arc<Inner>);

struct Inner {
    query: Query,
    /// Where queries run: not in a reader's task, so that a read given up (its request
    /// dropped) never leaves the others waiting.
    runtime: tokio::runtime::Handle,
    state: Mutex<State>,
    queries: AtomicU64,
}

#[derive(Default)]
struct State {
    /// The reads waiting for a query not sent yet: each holds a receiver of this sender.
    waiting: Option<watch::Sender<Option<Answer>>>,
    /// A task is sending queries (it sends the next while reads are waiting).
    running: bool,
}

impl Positions {
    /// Position reads made by `query`, on `runtime`.
    pub(crate) fn new(query: Query, runtime: tokio::runtime::Handle) -> Self {
        Self(Arc::new(Inner {
            query,
            runtime,
            state: Mutex::new(State::default()),
            queries: AtomicU64::new(0),
        }))
    }

    /// A position of the primary read after this call began.
    ///
    /// # Errors
    /// The query's: the primary is unavailable (so would the read be), or answered nonsense.
    pub(crate) async fn read(&self) -> Result<i64, RepoError> {
        let mut answer = {
            let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
            let answer = match &state.waiting {
                Some(next) => next.subscribe(),
                None => {
                    let (next, answer) = watch::channel(None);
                    state.waiting = Some(next);
                    answer
                }
            };
            if !state.running {
                state.running = true;
                self.0.runtime.spawn(self.clone().send_while_waited_for());
            }
            answer
        };
        let answer = match answer.wait_for(Option::is_some).await {
            Ok(answer) => answer.clone(),
            Err(_) => None,
        };
        answer.map_or_else(
            || {
                Err(RepoError::Unexpected(
                    "the primary's position query was abandoned".into(),
                ))
            },
            Answer::into_result,
        )
    }

    /// Reads waiting for the next query (not the one on its way).
    #[cfg(test)]
    fn waiting_reads(&self) -> usize {
        let state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
        state
            .waiting
            .as_ref()
            .map_or(0, watch::Sender::receiver_count)
    }

    /// Position queries sent so far.
    pub(crate) fn queries(&self) -> u64 {
        self.0.queries.load(Ordering::Relaxed)
    }

    /// Sends one query for each group of waiting reads, until none waits.
    async fn send_while_waited_for(self) {
        /// Lets the next read start a sender if this one ends by a panic.
        struct Running<'a> {
            state: &'a Mutex<State>,
            armed: bool,
        }
        impl Drop for Running<'_> {
            fn drop(&mut self) {
                if self.armed {
                    let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                    state.running = false;
                }
            }
        }
        let mut running = Running {
            state: &self.0.state,
            armed: true,
        };
        loop {
            // Taken before the query is sent: a read that arrives from now on waits for the
            // next one. `running` is cleared under the same lock that finds no read waiting,
            // so a read arriving in between always finds a sender or starts one.
            let waiting = {
                let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
                match state.waiting.take() {
                    Some(waiting) => waiting,
                    None => {
                        state.running = false;
                        running.armed = false;
                        return;
                    }
                }
            };
            self.0.queries.fetch_add(1, Ordering::Relaxed);
            let answer = (self.0.query)().await;
            waiting.send_replace(Some(answer));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicI64;
    use std::time::Duration;
    use tokio::sync::Semaphore;

    /// Queries that answer the value of `position` when each is let through `gate`.
    fn gated(position: Arc<AtomicI64>, gate: Arc<Semaphore>, sent: Arc<AtomicU64>) -> Query {
        Arc::new(move || {
            let (position, gate, sent) = (position.clone(), gate.clone(), sent.clone());
            Box::pin(async move {
                // Read when sent, as the primary does.
                let at_sending = position.load(Ordering::SeqCst);
                sent.fetch_add(1, Ordering::SeqCst);
                gate.acquire().await.expect("open").forget();
                Answer::Position(at_sending)
            })
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_query_serves_the_reads_that_arrived_before_it_was_sent_and_no_later_one() {
        let position = Arc::new(AtomicI64::new(1));
        let gate = Arc::new(Semaphore::new(0));
        let sent = Arc::new(AtomicU64::new(0));
        let positions = Positions::new(
            gated(position.clone(), gate.clone(), sent.clone()),
            tokio::runtime::Handle::current(),
        );
        let first = tokio::spawn({
            let positions = positions.clone();
            async move { positions.read().await }
        });
        // Until the first query has read the position (counted as sent just before).
        while sent.load(Ordering::SeqCst) < 1 {
            tokio::task::yield_now().await;
        }
        // A write acknowledged after the first query was sent: the reads arriving now must
        // not be given the first answer.
        position.store(2, Ordering::SeqCst);
        let later: Vec<_> = (0..10)
            .map(|_| {
                let positions = positions.clone();
                tokio::spawn(async move { positions.read().await })
            })
            .collect();
        // Every later read waiting (however slowly a loaded machine starts their tasks).
        while positions.waiting_reads() < 10 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(
            positions.queries(),
            1,
            "a second query while one is on its way"
        );
        gate.add_permits(1);
        assert_eq!(first.await.unwrap().unwrap(), 1);
        gate.add_permits(1);
        for read in later {
            assert_eq!(read.await.unwrap().unwrap(), 2);
        }
        assert_eq!(positions.queries(), 2, "one query for the ten later reads");

        // Idle again: the next read sends a query of its own.
        gate.add_permits(1);
        assert_eq!(positions.read().await.unwrap(), 2);
        assert_eq!(positions.queries(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_given_up_leaves_the_others_served() {
        let gate = Arc::new(Semaphore::new(0));
        let positions = Positions::new(
            gated(
                Arc::new(AtomicI64::new(7)),
                gate.clone(),
                Arc::new(AtomicU64::new(0)),
            ),
            tokio::runtime::Handle::current(),
        );
        let abandoned = tokio::spawn({
            let positions = positions.clone();
            async move { positions.read().await }
        });
        let kept = tokio::spawn({
            let positions = positions.clone();
            async move { positions.read().await }
        });
        while positions.queries() < 1 {
            tokio::task::yield_now().await;
        }
        abandoned.abort();
        gate.add_permits(2);
        assert_eq!(kept.await.unwrap().unwrap(), 7);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_error_reaches_every_read_it_served_with_its_kind() {
        let positions = Positions::new(
            Arc::new(|| Box::pin(async { Answer::Unavailable("primary gone".into()) })),
            tokio::runtime::Handle::current(),
        );
        let reads: Vec<_> = (0..5)
            .map(|_| {
                let positions = positions.clone();
                tokio::spawn(async move { positions.read().await })
            })
            .collect();
        for read in reads {
            assert!(matches!(
                read.await.unwrap(),
                Err(RepoError::Unavailable(_))
            ));
        }
    }
}

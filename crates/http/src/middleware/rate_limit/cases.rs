//! The same cases, run against both limiters: in this process, and in a real Redis
//! (`TEST_REDIS_URL`, else `REDIS_URL`: `make test` starts one, see `scripts/test-redis.sh`).
//! Without one the Redis cases fail under CI (`CI=true`) and are skipped, saying so, elsewhere.
//! Then, for Redis alone: the script decides as governor does on the same clock, request after
//! request, and a Redis that fails or is late leaves the request undecided within the timeout.

use super::redis::{Redis, RedisRateLimits};
use super::{Bucket, Decision, Gcra, InProcess, RateLimiter, EVICTION_INTERVAL};
use governor::clock::FakeRelativeClock;
use governor::middleware::StateInformationMiddleware;
use governor::Quota;
use provider_domain::UserId;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

fn per_minute(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn user() -> Bucket {
    Bucket::User(UserId::from_uuid(uuid::Uuid::new_v4()))
}

fn address(text: &str) -> Bucket {
    Bucket::Address(text.parse::<IpAddr>().unwrap())
}

/// The test Redis's URL, when there is one.
fn redis_url() -> Option<String> {
    let url = ["TEST_REDIS_URL", "REDIS_URL"].iter().find_map(|name| {
        std::env::var(name)
            .ok()
            .filter(|url| !url.trim().is_empty())
    });
    if url.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "no Redis for the rate-limit tests: set TEST_REDIS_URL (scripts/test-redis.sh, which \
             `make test` runs, starts one)"
        );
        eprintln!(
            "SKIPPED: no TEST_REDIS_URL; run through scripts/test-redis.sh to test the Redis limiter"
        );
    }
    url
}

/// A Redis store of buckets no other test shares (its own key prefix), given a second per call
/// (the machine may be loaded; the default 50 ms is for production).
fn redis_store(url: &str) -> RedisRateLimits {
    RedisRateLimits::new(url, Duration::from_secs(1))
        .unwrap()
        .with_key_prefix(format!("test:{}:", uuid::Uuid::new_v4()))
}

fn in_process(n: u32) -> InProcess {
    InProcess::new(per_minute(n), EVICTION_INTERVAL)
}

fn in_redis() -> Option<impl Fn(u32) -> Redis> {
    let url = redis_url()?;
    Some(move |n| Redis::new(redis_store(&url), Gcra::per_minute(per_minute(n))))
}

/// Each case as a test against each limiter.
macro_rules! on_both {
    ($($case:ident),* $(,)?) => {
        mod in_process {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::in_process).await;
                }
            )*
        }
        mod in_redis {
            $(
                #[tokio::test]
                async fn $case() {
                    if let Some(make) = super::in_redis() {
                        super::$case(make).await;
                    }
                }
            )*
        }
    };
}

on_both!(
    a_bucket_lets_its_size_through_then_refuses_for_an_emission_interval,
    every_bucket_is_its_own,
    a_refusal_charges_nothing,
);

async fn a_bucket_lets_its_size_through_then_refuses_for_an_emission_interval<L: RateLimiter>(
    make: impl Fn(u32) -> L,
) {
    let limiter = make(3);
    let bucket = address("10.0.0.1");
    let started = Instant::now();
    for remaining in [2, 1, 0] {
        assert_eq!(
            limiter.check(&bucket).await,
            Ok(Decision::Allowed { remaining })
        );
    }
    let Ok(Decision::Refused { wait }) = limiter.check(&bucket).await else {
        panic!("a fourth request of three a minute was let through");
    };
    // One request comes back 20 s after the first was charged.
    let elapsed = started.elapsed();
    assert!(wait <= Duration::from_secs(20), "{wait:?}");
    assert!(
        wait + elapsed >= Duration::from_secs(20) - Duration::from_millis(2),
        "{wait:?} after {elapsed:?}"
    );
}

async fn every_bucket_is_its_own<L: RateLimiter>(make: impl Fn(u32) -> L) {
    let limiter = make(1);
    let (alice, bob) = (user(), user());
    let allowed = Ok(Decision::Allowed { remaining: 0 });
    assert_eq!(limiter.check(&alice).await, allowed);
    assert!(matches!(
        limiter.check(&alice).await,
        Ok(Decision::Refused { .. })
    ));
    assert_eq!(limiter.check(&bob).await, allowed);
    assert_eq!(limiter.check(&address("10.0.0.3")).await, allowed);
    assert_eq!(limiter.check(&address("2001:db8::3")).await, allowed);
    assert!(matches!(
        limiter.check(&address("10.0.0.3")).await,
        Ok(Decision::Refused { .. })
    ));
}

async fn a_refusal_charges_nothing<L: RateLimiter>(make: impl Fn(u32) -> L) {
    // 60 a minute: one back every second. Spent, refused again and again, then one is back a
    // second after the first allowed request, however many were refused.
    let limiter = make(60);
    let bucket = user();
    for _ in 0..60 {
        assert!(matches!(
            limiter.check(&bucket).await,
            Ok(Decision::Allowed { .. })
        ));
    }
    for _ in 0..20 {
        let Ok(Decision::Refused { wait }) = limiter.check(&bucket).await else {
            panic!("let through with the bucket spent");
        };
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
    }
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(
        limiter.check(&bucket).await,
        Ok(Decision::Allowed { remaining: 0 })
    );
}

/// A deterministic sequence of gaps between requests, in microseconds (Redis's `TIME` has
/// microseconds): bursts, pauses shorter and longer than an emission interval, and long idles.
fn gaps(seed: u64, count: usize, interval_us: u64) -> Vec<u64> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let draw = state >> 33;
            match draw % 64 {
                0..=39 => 0,
                40..=47 => draw % 1_000,
                48..=55 => draw % interval_us,
                56..=62 => interval_us + draw % interval_us,
                _ => draw % (interval_us * 40),
            }
        })
        .collect()
}

#[tokio::test]
async fn the_script_decides_as_governor_does_on_the_same_clock() {
    let Some(url) = redis_url() else { return };
    // Emission intervals of whole seconds (1, 3, 60), of a fraction of a microsecond (7,
    // 97: governor rounds them down to the nanosecond), a tenth of a second (600).
    for (n, seed) in [(1, 1), (3, 2), (7, 3), (60, 4), (97, 5), (600, 6)] {
        let redis = Redis::new(redis_store(&url), Gcra::per_minute(per_minute(n)));
        let clock = FakeRelativeClock::default();
        let governor = governor::RateLimiter::hashmap_with_clock(
            Quota::per_minute(per_minute(n)),
            clock.clone(),
        )
        .with_middleware::<StateInformationMiddleware>();
        let bucket = user();
        // Redis's clock starts somewhere in 2027, with microseconds; governor's at 0.
        let (start_s, start_us) = (1_800_000_000_u64, 987_654_u64);
        let mut elapsed_us = 0_u64;
        let (mut allowed, mut refused) = (0, 0);
        let interval_us = 60_000_000 / u64::from(n);
        for (i, gap) in gaps(seed, 400.max(3 * n as usize), interval_us)
            .into_iter()
            .enumerate()
        {
            clock.advance(Duration::from_micros(gap));
            elapsed_us += gap;
            let expected = match governor.check_key(&bucket) {
                Ok(snapshot) => Decision::Allowed {
                    remaining: snapshot.remaining_burst_capacity(),
                },
                Err(refused) => Decision::Refused {
                    wait: refused.wait_time_from(governor::clock::Clock::now(&clock)),
                },
            };
            let now_us = start_us + elapsed_us;
            let now = (start_s + now_us / 1_000_000, (now_us % 1_000_000) as u32);
            let decided = redis.check_at(&bucket, now).await.unwrap();
            assert_eq!(
                decided, expected,
                "{n} a minute, request {i}, {elapsed_us} µs in"
            );
            match decided {
                Decision::Allowed { .. } => allowed += 1,
                Decision::Refused { .. } => refused += 1,
            }
        }
        // Both answers, many times over: the sequence drains the bucket and lets it refill.
        assert!(
            allowed > 50 && refused > 50,
            "{n}: {allowed} allowed, {refused} refused"
        );
    }
}

#[tokio::test]
async fn a_redis_that_does_not_answer_leaves_the_request_undecided_within_the_timeout() {
    // A socket that takes connections and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", silent.local_addr().unwrap());
    let timeout = Duration::from_millis(50);
    let redis = Redis::new(
        RedisRateLimits::new(&url, timeout).unwrap(),
        Gcra::per_minute(per_minute(3)),
    );
    for _ in 0..3 {
        let started = Instant::now();
        assert!(redis.check(&user()).await.is_err());
        let took = started.elapsed();
        assert!(took >= timeout, "{took:?}");
        assert!(took < Duration::from_secs(1), "{took:?}");
    }
    assert_eq!(redis.health().await, super::StoreHealth::Down);
}

#[tokio::test]
async fn a_closed_port_leaves_the_request_undecided_at_once() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let redis = Redis::new(
        RedisRateLimits::new(&format!("redis://127.0.0.1:{port}"), Duration::from_secs(5)).unwrap(),
        Gcra::per_minute(per_minute(3)),
    );
    let started = Instant::now();
    assert!(redis.check(&user()).await.is_err());
    assert!(redis.check(&user()).await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(redis.health().await, super::StoreHealth::Down);
}

#[tokio::test]
async fn a_redis_that_answers_is_healthy() {
    let Some(url) = redis_url() else { return };
    let redis = Redis::new(redis_store(&url), Gcra::per_minute(per_minute(3)));
    assert_eq!(redis.health().await, super::StoreHealth::Ok);
}

#[test]
fn a_url_that_is_not_redis_is_refused() {
    let error =
        RedisRateLimits::new("postgres://localhost/db", Duration::from_millis(50)).unwrap_err();
    assert!(
        error.to_string().contains("RATE_LIMIT_REDIS_URL"),
        "{error}"
    );
}

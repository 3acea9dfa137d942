//! Check a provider's availability for a job, as a batch job would: which of the job's windows
//! hold enough consecutive free days, and how many.
//!
//! ```text
//! cargo run -p provider-domain --example check_availability
//! ```
//!
//! A provider lists the days it is free as ranges; ranges that touch (one ends the day before
//! the next starts) form one unbroken run ([`Availability::runs`]). A job of `n` days fits a
//! window when one run holds `n` days inside it ([`JobRequest::fits_schedule`]). It prints each
//! window's longest run and exits non-zero if an answer is not the one the rules give.

use provider_domain::{
    Availability, JobInput, JobRequest, Provider, ProviderDraft, ProviderId, ProviderInput,
    RangeInput, UserId,
};
use uuid::Uuid;

fn range(from: &str, to: &str) -> RangeInput {
    RangeInput {
        from_date: from.into(),
        to_date: to.into(),
    }
}

fn main() {
    // Free from the 1st to the 3rd of March and from the 4th to the 6th (they touch: one run of
    // six days), then on the 10th and 11th, then from the 20th to the 31st.
    let draft = ProviderDraft::parse(&ProviderInput {
        name: "Gardens by Grace".into(),
        skills: vec!["Gardening".into()],
        cost_in_pence: 12_000,
        availability: vec![
            range("2027-03-20", "2027-03-31"),
            range("2027-03-04", "2027-03-06"),
            range("2027-03-01", "2027-03-03"),
            range("2027-03-10", "2027-03-11"),
        ],
    })
    .expect("the provider is valid");
    let provider = Provider::new(
        ProviderId::from_uuid(Uuid::from_u128(1)),
        UserId::from_uuid(Uuid::from_u128(2)),
        draft,
        time::OffsetDateTime::UNIX_EPOCH,
    );

    let runs = provider.availability.runs();
    println!("{} is free in {} runs:", provider.name, runs.len());
    for run in &runs {
        println!("  {} to {} ({} days)", run.from(), run.to(), run.days());
    }
    let run_lengths: Vec<i64> = runs.iter().map(|r| r.days()).collect();
    assert_eq!(run_lengths, [6, 2, 12]);

    // A four-day job, asked for in one window at a time: (window, fits, longest run inside).
    let windows = [
        ("2027-03-02", "2027-03-15", true, 5),
        ("2027-03-09", "2027-03-22", false, 3),
        ("2027-03-25", "2027-03-28", true, 4),
    ];
    for (from, to, fits, longest) in windows {
        let job = JobRequest::parse(&JobInput {
            job_budget_in_pence: Some(100_000),
            expected_job_duration_in_days: Some(4),
            skills: Some(vec!["gardening".into()]),
            availability: Some(vec![range(from, to)]),
            minimum_review_rating: None,
        })
        .expect("the job is valid");
        let window = job.windows()[0];
        let run = longest_run(&provider.availability, &job);
        println!(
            "window {from} to {to}: longest run inside {run} days, a 4-day job {}",
            if job.fits_schedule(&provider) {
                "fits"
            } else {
                "does not fit"
            }
        );
        assert_eq!(job.fits_schedule(&provider), fits, "window {window:?}");
        assert_eq!(run, longest, "window {window:?}");
        // The schedule is one of the four rules; this job is within budget and the skill
        // matches, and the provider is unreviewed with no minimum rating asked for, so the
        // provider is recommended exactly when the schedule fits.
        assert_eq!(job.evaluate(&provider).is_some(), fits);
    }

    // A job may list several windows: it fits when one of them holds the run.
    let either = JobRequest::parse(&JobInput {
        job_budget_in_pence: Some(100_000),
        expected_job_duration_in_days: Some(4),
        skills: Some(vec!["Gardening".into()]),
        availability: Some(vec![
            range("2027-03-09", "2027-03-22"),
            range("2027-03-25", "2027-03-28"),
        ]),
        minimum_review_rating: None,
    })
    .expect("the job is valid");
    assert!(either.fits_schedule(&provider));
    println!("with both of the last two windows, the job fits");
}

/// The longest run of free days inside the job's one window.
fn longest_run(availability: &Availability, job: &JobRequest) -> i64 {
    availability.longest_run_within(&job.windows()[0])
}

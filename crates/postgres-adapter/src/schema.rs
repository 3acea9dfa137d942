//! The tables of `migrations/` as Diesel sees them, written by hand (as `diesel print-schema`
//! would write them); `tests/schema.rs` checks them against a migrated database.

diesel::table! {
    /// One row per service provider; review count and rating sum kept with it.
    providers (id) {
        id -> Uuid,
        owner_id -> Uuid,
        name -> Text,
        name_key -> Text,
        cost_in_pence -> Int8,
        review_count -> Int8,
        rating_sum -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int8,
    }
}

diesel::table! {
    /// A provider's skills, in the order given.
    provider_skills (provider_id, position) {
        provider_id -> Uuid,
        position -> Int2,
        skill -> Text,
        skill_key -> Text,
        cost_in_pence -> Int8,
        review_count -> Int8,
        rating_sum -> Int8,
        skill_review_count -> Int8,
        skill_rating_sum -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    /// A review's per-skill ratings, in its order.
    review_skill_ratings (review_id, position) {
        review_id -> Uuid,
        position -> Int2,
        skill -> Text,
        skill_key -> Text,
        rating -> Int2,
    }
}

diesel::table! {
    /// Per provider and skill key, the count and sum (tenths) of its per-skill ratings.
    skill_reviews (provider_id, skill_key) {
        provider_id -> Uuid,
        skill_key -> Text,
        review_count -> Int8,
        rating_sum -> Int8,
    }
}

diesel::table! {
    /// A provider's availability ranges, as given.
    availability (provider_id, period) {
        provider_id -> Uuid,
        period -> Daterange,
    }
}

diesel::table! {
    /// A provider's availability merged into unbroken runs (derived).
    availability_runs (provider_id, run) {
        provider_id -> Uuid,
        run -> Daterange,
    }
}

diesel::table! {
    /// Reviews, one per provider and user, with their moderation.
    reviews (id) {
        id -> Uuid,
        provider_id -> Uuid,
        user_id -> Uuid,
        rating -> Int2,
        comment -> Nullable<Text>,
        created_at -> Timestamptz,
        status -> Text,
        reasons -> Array<Text>,
        revision -> Int8,
        queued_at -> Nullable<Timestamptz>,
        decision_action -> Nullable<Text>,
        decision_by -> Nullable<Uuid>,
        decision_rule -> Nullable<Text>,
        decision_statement -> Nullable<Text>,
        decision_at -> Nullable<Timestamptz>,
        decision_appealed -> Nullable<Bool>,
        appeal_against -> Nullable<Uuid>,
        appeal_status -> Nullable<Text>,
        appeal_at -> Nullable<Timestamptz>,
        appeal_explanation -> Nullable<Text>,
    }
}

diesel::table! {
    /// Flags raised on reviews; open until a decision on the review resolves them.
    review_flags (id) {
        id -> Uuid,
        review_id -> Uuid,
        flagger -> Uuid,
        reason -> Text,
        explanation -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    /// The provider's reply to a review.
    review_replies (review_id) {
        review_id -> Uuid,
        text -> Text,
        status -> Text,
        reasons -> Array<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    /// The append-only history of each review (no foreign key: it outlives the review).
    review_events (id) {
        id -> Int8,
        review_id -> Uuid,
        provider_id -> Uuid,
        at -> Timestamptz,
        by -> Nullable<Uuid>,
        event -> Text,
        detail -> Jsonb,
    }
}

diesel::table! {
    /// Idempotency records: per caller and key, the request's fingerprint and, once it
    /// succeeded, its answer (pending while `status` is NULL).
    idempotency_keys (caller_id, key) {
        caller_id -> Uuid,
        key -> Text,
        fingerprint -> Bytea,
        token -> Uuid,
        claimed_at -> Timestamptz,
        expires_at -> Timestamptz,
        answer -> Nullable<Bytea>,
    }
}

diesel::table! {
    /// The change feed: one row per change a write made, in the write's transaction.
    change_events (sequence) {
        sequence -> Int8,
        at -> Timestamptz,
        #[sql_name = "type"]
        kind -> Text,
        provider_id -> Uuid,
        review_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    /// The change feed's bookkeeping: how far the retention purge went.
    change_events_horizon (only_row) {
        only_row -> Bool,
        purged_through -> Int8,
    }
}

diesel::joinable!(provider_skills -> providers (provider_id));
diesel::joinable!(availability -> providers (provider_id));
diesel::joinable!(availability_runs -> providers (provider_id));
diesel::joinable!(reviews -> providers (provider_id));
diesel::joinable!(review_skill_ratings -> reviews (review_id));
diesel::joinable!(skill_reviews -> providers (provider_id));
diesel::joinable!(review_flags -> reviews (review_id));
diesel::joinable!(review_replies -> reviews (review_id));

diesel::allow_tables_to_appear_in_same_query!(
    providers,
    provider_skills,
    availability,
    availability_runs,
    reviews,
    review_skill_ratings,
    skill_reviews,
    review_flags,
    review_replies,
    review_events,
    idempotency_keys,
    change_events,
    change_events_horizon,
);

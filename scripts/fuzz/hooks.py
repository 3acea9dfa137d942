"""Schemathesis hooks for `make fuzz` (loaded through schemathesis.toml).

Two things live here, and nothing else:

1. Who calls. The API's `user-id` header (security scheme `user_id`) is the caller. The
   moderation routes are called as a moderator (in the servers' `MODERATOR_IDS`); every other
   operation is called as one owner, so that the stateful phase can follow the links of a
   provider it created to get, replace and delete it. Reviews (`addReview`) are written in turn
   by two other users and by the owner, so that 201 (first review), 409 (the same user again)
   and 403 (the owner reviewing their own provider) are all reached.

2. The exclusions: the cross-field rules. `positive_data_acceptance` (a request valid by the
   schema must not be refused) is replaced by `positive_data_acceptance_except_cross_field`,
   which is the built-in check except that it forgives a 422 whose every detail is one of the
   rules below. JSON Schema cannot say them (each relates two values of the request), the
   OpenAPI document says each in a description, and the server refuses them on purpose:

   - `cost_gt` must be less than `cost_lt` (search): a filter that can match nothing is a
     mistake worth telling the client about.
   - `reviews_gt` must not be greater than `reviews_lt` (search): the same, for ratings.
   - a date range's `from_date` must not be after its `to_date` (every `availability`).
   - a provider's availability ranges must not overlap one another (create, replace).
   - a recommend window shorter than `expected_job_duration_in_days` (it can never hold the
     job).
   - `page * page_size <= 10000` (every list): deep paging is refused, narrow the filter.
   - `cursor` and `page` together (search, review lists): a cursor says where the page is.
   - a review's `skill_ratings` rate each skill at most once, compared case-insensitively
     (`uniqueItems` cannot say "unique by one property, ignoring case").
   - a flag's `explanation` is required for the reasons `illegal` and `other` only.

   A 422 carrying any other detail (or a detail on another field) is still a finding, as is
   every other check. Matching is on the exact field and message the server writes.

3. Two refusals that depend on what the server holds, not on the request, also forgiven:

   - 412 to a request that carries `If-Match`: a conditional write whose tags do not name the
     provider's current version is refused on purpose (safe writes); which tag is current is
     state the schema cannot know.
   - 422 on `Idempotency-Key` "was used for a different request": a key may be used for one
     request only; the fuzzer draws keys from a small space and reuses them with other bodies.
   - 422 on `skill_ratings[i].skill` "is not one of the service provider's skills": a review
     may rate only the skills the provider has now, which the schema cannot know.
   - 422 on `cursor` for a cursor the server did not give out for this list: a cursor is
     signed by the server and bound to one filter, order and list, so any other string is
     refused on purpose; which strings are cursors is the server's secret.
"""

from __future__ import annotations

import itertools
import re
import threading

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

OWNER = "7b0c1e52-3c1f-4b7e-9a55-000000000001"
# In MODERATOR_IDS of the servers run.py starts: the moderation routes are called as them.
MODERATOR = "7b0c1e52-3c1f-4b7e-9a55-0000000000d0"
MODERATION = {"moderationQueue", "decideReview", "reviewHistory"}
REVIEWERS = (
    "7b0c1e52-3c1f-4b7e-9a55-000000000002",
    "7b0c1e52-3c1f-4b7e-9a55-000000000003",
    OWNER,
)

_next_reviewer = itertools.cycle(REVIEWERS)
_lock = threading.Lock()


@schemathesis.auth(refresh_interval=None, retry_on=[])
class Caller:
    """The `user-id` header: the owner, or for reviews the next of two reviewers and the owner."""

    def get(self, case, context):
        operation = context.operation.definition.raw.get("operationId")
        if operation == "addReview":
            with _lock:
                return next(_next_reviewer)
        if operation in MODERATION:
            return MODERATOR
        return OWNER

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["user-id"] = data


# (field, message) pairs of the cross-field rules, as the server writes them.
CROSS_FIELD_RULES = (
    (re.compile(r"cost_gt"), re.compile(r"must be less than cost_lt")),
    (re.compile(r"reviews_gt"), re.compile(r"must not be greater than reviews_lt")),
    (
        re.compile(r"availability\[\d+\]\.to_date"),
        re.compile(r"from_date must not be after to_date"),
    ),
    (
        re.compile(r"availability\[\d+\]"),
        re.compile(r"overlaps availability\[\d+\] \(ranges may touch but not overlap\)"),
    ),
    (
        re.compile(r"availability\[\d+\]"),
        re.compile(r"is \d+ days long, shorter than the job \(\d+ days\)"),
    ),
    # page is at most 10000 in the schema, so "between 1 and N" for a schema-valid page is
    # the depth rule (N = 10000 / page_size).
    (re.compile(r"page"), re.compile(r"must be between 1 and \d+")),
    (
        re.compile(r"skill_ratings\[\d+\]\.skill"),
        re.compile(r"rates the same skill as skill_ratings\[\d+\]"),
    ),
    (re.compile(r"cursor"), re.compile(r"must not be given together with page")),
    # Only a cursor the server signed for this list is one (point 3).
    (
        re.compile(r"cursor"),
        re.compile(
            r"is not a cursor this service gave out, or was changed"
            r"|was made by another version of the service and can no longer be used"
            r"|was made for another (list|search or another provider|sort order)"
        ),
    ),
    # A flag's explanation is required for the reasons `illegal` and `other` only.
    (re.compile(r"explanation"), re.compile(r"is required")),
    # Depends on the provider's skills (point 3), not on the request alone.
    (
        re.compile(r"skill_ratings\[\d+\]\.skill"),
        re.compile(r"is not one of the service provider's skills"),
    ),
)


def is_cross_field_refusal(response) -> bool:
    """True when the answer is a 422 whose details are all cross-field rules."""
    if response.status_code != 422:
        return False
    try:
        details = response.json().get("details") or []
    except Exception:  # not JSON: not ours to forgive
        return False
    return bool(details) and all(
        any(
            field.fullmatch(str(detail.get("field", "")))
            and message.fullmatch(str(detail.get("message", "")))
            for field, message in CROSS_FIELD_RULES
        )
        for detail in details
    )


KEY_REUSED = re.compile(r"was used for a different request.*")


def is_state_refusal(response, case) -> bool:
    """True for the refusals of point 3: a stale `If-Match`, an `Idempotency-Key` reused."""
    headers = {k.lower(): v for k, v in (case.headers or {}).items()}
    if response.status_code == 412 and "if-match" in headers:
        return True
    if response.status_code != 422:
        return False
    try:
        details = response.json().get("details") or []
    except Exception:
        return False
    return bool(details) and all(
        d.get("field") == "Idempotency-Key" and KEY_REUSED.fullmatch(str(d.get("message", "")))
        for d in details
    )


@schemathesis.check
def positive_data_acceptance_except_cross_field(ctx, response, case):
    """The built-in `positive_data_acceptance`, except for the cross-field rules and the
    state-dependent refusals above."""
    if is_cross_field_refusal(response) or is_state_refusal(response, case):
        return None
    return positive_data_acceptance(ctx, response, case)

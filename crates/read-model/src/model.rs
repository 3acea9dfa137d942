//! The providers held in memory, with the indexes that answer the contract's searches and
//! recommendations without looking at every provider.
//!
//! Each provider is one compact [`Entry`] in a slot (skills interned, no per-skill map); the
//! indexes hold slots:
//! - one ordered set per search order over every provider (`by_cost` serves both cost
//!   orders: it is kept by `(cost, slot)` and each run of equal day rates is put in the
//!   order's exact order when walked);
//! - per skill key, its providers by `(cost, slot)`: a skill filter walked in cost order, and
//!   recommend's walk from the job's highest affordable day rate down;
//! - per byte trigram of the case-folded names, a bitmap of slots: a name needle's candidates
//!   are the intersection of its trigrams' bitmaps.
//!
//! Answers use the domain's own orders ([`SearchSort::compare_keys`],
//! [`recommendation_order`]) and checks ([`JobRequest::evaluate`]); the filter is checked on
//! the compact entry as [`SearchFilter::matches`] says (debug builds check both agree).

use provider_domain::{
    fold_case, recommendation_order, Availability, DayRate, JobRequest, Provider, ProviderId,
    ProviderName, RatingBound, Recommendation, ReviewStats, SearchFilter, SearchSort, Skill,
    SkillReviews, Skills, SortKey, UserId,
};
use provider_ports::{Found, Page, PageOf, Paging, Total, Version, Versioned};
use roaring::RoaringBitmap;
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::LazyLock;
use time::OffsetDateTime;

/// One provider, compact: what the API shows of it and its version.
#[derive(Debug, Clone)]
struct Entry {
    id: ProviderId,
    owner: UserId,
    name: ProviderName,
    /// Interned spellings ([`Interner::spellings`]), in the provider's order.
    skills: Box<[u32]>,
    /// The per-skill figures of each skill, same order.
    figures: Box<[ReviewStats]>,
    cost: DayRate,
    availability: Availability,
    reviews: ReviewStats,
    created_at: OffsetDateTime,
    version: Version,
}

impl Entry {
    fn point(&self) -> SortKey {
        SortKey {
            cost: self.cost,
            reviews: self.reviews,
            created_at: self.created_at,
            id: self.id,
        }
    }
}

/// Every skill spelling and key seen, numbered. Never shrinks: a spelling costs a few bytes,
/// and numbers stay valid for entries that hold them.
#[derive(Debug, Default)]
struct Interner {
    /// Each spelling with the number of its key.
    spellings: Vec<(Skill, u32)>,
    spelling_ids: HashMap<Skill, u32>,
    keys: HashMap<String, u32>,
}

impl Interner {
    fn spelling(&mut self, skill: &Skill) -> u32 {
        if let Some(id) = self.spelling_ids.get(skill) {
            return *id;
        }
        let next_key = self.keys.len() as u32;
        let key = *self.keys.entry(skill.key().to_owned()).or_insert(next_key);
        let id = self.spellings.len() as u32;
        self.spellings.push((skill.clone(), key));
        self.spelling_ids.insert(skill.clone(), id);
        id
    }

    fn key_of(&self, spelling: u32) -> u32 {
        self.spellings[spelling as usize].1
    }

    fn skill(&self, spelling: u32) -> &Skill {
        &self.spellings[spelling as usize].0
    }
}

/// The point of a provider in the orders that do not read its day rate: what `by_rating`,
/// `by_reviews` and `by_newest` hold, ordered exactly as the domain orders providers.
macro_rules! ranked {
    ($name:ident, $sort:expr, { $($field:ident: $ty:ty),* }, |$k:ident| $point:expr) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        struct $name {
            $($field: $ty,)*
            id: ProviderId,
            slot: u32,
        }

        impl $name {
            fn point(&self) -> SortKey {
                let $k = self;
                $point
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> Ordering {
                $sort
                    .compare_keys(&self.point(), &other.point())
                    .then(self.slot.cmp(&other.slot))
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
    };
}

/// The day rate the orders below never read.
static UNREAD_COST: LazyLock<DayRate> = LazyLock::new(|| DayRate::new(0).expect("0 is a day rate"));

ranked!(RatingRank, SearchSort::RatingDesc, { reviews: ReviewStats }, |k| SortKey {
    cost: *UNREAD_COST,
    reviews: k.reviews,
    created_at: OffsetDateTime::UNIX_EPOCH,
    id: k.id,
});
ranked!(ReviewsRank, SearchSort::ReviewsDesc, { reviews: ReviewStats }, |k| SortKey {
    cost: *UNREAD_COST,
    reviews: k.reviews,
    created_at: OffsetDateTime::UNIX_EPOCH,
    id: k.id,
});

/// A provider's point in the `cost_asc` order, or (`side` not 0) the edge before or after
/// every provider of one day rate: what `by_cost` holds and is ranged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CostRank {
    cost: i64,
    /// 0 for a provider; -1 or 1 for the edge before or after every provider of `cost`.
    side: i8,
    reviews: ReviewStats,
    id: ProviderId,
    slot: u32,
}

impl CostRank {
    fn point(&self) -> SortKey {
        SortKey {
            // An edge's day rate may be out of range; edges of one day rate and side are
            // equal whatever the rest.
            cost: DayRate::new(self.cost).unwrap_or(*UNREAD_COST),
            reviews: self.reviews,
            created_at: OffsetDateTime::UNIX_EPOCH,
            id: self.id,
        }
    }

    /// The edge on `bound`'s side of its day rate (slot 0: before it; `u32::MAX`: after).
    fn edge(bound: Bound<Posting>) -> Bound<Self> {
        let edge = |(cost, slot): Posting| Self {
            cost,
            side: if slot == u32::MAX { 1 } else { -1 },
            reviews: ReviewStats::default(),
            id: ProviderId::from_uuid(uuid::Uuid::nil()),
            slot: 0,
        };
        match bound {
            Bound::Included(p) => Bound::Included(edge(p)),
            Bound::Excluded(p) => Bound::Excluded(edge(p)),
            Bound::Unbounded => Bound::Unbounded,
        }
    }
}

impl Ord for CostRank {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cost
            .cmp(&other.cost)
            .then(self.side.cmp(&other.side))
            .then_with(|| {
                if self.side == 0 {
                    SearchSort::CostAsc.compare_keys(&self.point(), &other.point())
                } else {
                    Ordering::Equal
                }
            })
            .then(self.slot.cmp(&other.slot))
    }
}

impl PartialOrd for CostRank {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `set.range(bounds)`, empty when the bounds are crossed (a cursor past the filter's own
/// bound), where `BTreeSet::range` would panic.
fn range<T: Ord>(
    set: &BTreeSet<T>,
    (low, high): (Bound<T>, Bound<T>),
) -> impl DoubleEndedIterator<Item = &T> {
    let open = match (&low, &high) {
        (Bound::Included(a), Bound::Included(b)) => a <= b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => a < b,
        _ => true,
    };
    open.then(|| set.range((low, high))).into_iter().flatten()
}

/// Whether the case-folded `name` holds `needle` (already folded): as
/// `fold_case(name).contains(needle)`, without making the folded copy for an ASCII name (whose
/// folding is ASCII lower case: a window equal to the needle ignoring ASCII case).
fn name_holds(name: &str, needle: &str) -> bool {
    if name.is_ascii() {
        let needle = needle.as_bytes();
        needle.is_empty()
            || name
                .as_bytes()
                .windows(needle.len())
                .any(|window| window.eq_ignore_ascii_case(needle))
    } else {
        fold_case(name).contains(needle)
    }
}

/// How many steps of an ordered walk (a bit tested per step) cost what collecting one
/// candidate does (its entry read and checked).
const WALK_STEPS_PER_CANDIDATE: u64 = 20;

/// How many times the candidates so far a name trigram's bitmap may hold and still be
/// intersected with them (see [`Model::source`]).
const NAME_INTERSECT_RATIO: u64 = 8;

/// A `(cost, slot)` posting, or `(creation microsecond, slot)` in the newest order's
/// indexes: a coarse point, each run of equal ones put in the exact order when walked.
type Posting = (i64, u32);

/// A provider's creation time in whole microseconds (rounded down): its coarse point in the
/// newest order (the database keeps microseconds; a finer time only lengthens a run).
fn created_micros(created_at: OffsetDateTime) -> i64 {
    // Any `OffsetDateTime` (years ±9999) is within ±3.2e17 microseconds.
    i64::try_from(created_at.unix_timestamp_nanos().div_euclid(1000))
        .expect("an OffsetDateTime is within i64 microseconds")
}

/// Byte trigrams of a case-folded name (a needle found in a name has all of its own).
fn trigrams_of(folded: &str) -> impl Iterator<Item = u32> + '_ {
    folded
        .as_bytes()
        .windows(3)
        .map(|w| u32::from(w[0]) << 16 | u32::from(w[1]) << 8 | u32::from(w[2]))
}

/// How a search finds its candidates.
enum Source {
    /// Every provider.
    All,
    /// The providers with one of these skill keys (their postings).
    Skills(Vec<u32>),
    /// The providers whose names hold the needle's rarest trigrams (a superset of those
    /// holding the needle: `matches` checks each name).
    Names(NameCandidates),
    /// None can match (a skill or trigram no provider has).
    Nothing,
}

/// The slots whose names hold a needle's rarest trigrams: as a bitmap (listed in slot order),
/// and as a plain bit per slot (an ordered walk tests one per step: one load, where a
/// bitmap's `contains` is two binary searches).
struct NameCandidates {
    bitmap: RoaringBitmap,
    bits: Vec<u64>,
}

impl NameCandidates {
    fn new(bitmap: RoaringBitmap, slots: usize) -> Self {
        let mut bits = vec![0u64; slots.div_ceil(64)];
        for slot in &bitmap {
            bits[slot as usize / 64] |= 1 << (slot % 64);
        }
        Self { bitmap, bits }
    }

    fn contains(&self, slot: u32) -> bool {
        self.bits
            .get(slot as usize / 64)
            .is_some_and(|word| word >> (slot % 64) & 1 == 1)
    }
}

/// The filter's parts resolved against the model once per search.
struct Compiled<'a> {
    filter: &'a SearchFilter,
    /// The filter's skill keys the model knows (an unknown one matches nobody).
    keys: Vec<u32>,
}

/// The read model's data: providers and indexes.
#[derive(Debug, Default)]
pub(crate) struct Model {
    slots: Vec<Option<Entry>>,
    free: Vec<u32>,
    by_id: HashMap<ProviderId, u32>,
    interner: Interner,
    /// Every provider in the `cost_asc` order (walked backwards, each run of equal day rates
    /// reversed, it is the `cost_desc` order: both break ties alike).
    by_cost: BTreeSet<CostRank>,
    by_rating: BTreeSet<RatingRank>,
    by_reviews: BTreeSet<ReviewsRank>,
    /// Every provider by creation microsecond: walked backwards, each run of equal ones put
    /// in its exact order, it is the newest order.
    by_newest: BTreeSet<Posting>,
    /// Per skill key (its number), its providers.
    postings: Vec<BTreeSet<Posting>>,
    /// Per skill key, its providers by creation microsecond: a skill filter walked in the
    /// newest order without stepping over the providers that lack the skill.
    newest_postings: Vec<BTreeSet<Posting>>,
    /// Per skill key, its providers' slots: a walk in another order tests membership with a
    /// bit, not by reading the entry.
    members: Vec<RoaringBitmap>,
    trigrams: HashMap<u32, RoaringBitmap>,
}

impl Model {
    /// Number of providers held.
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Puts `provider` in (replacing the one with its id), or takes the provider `id` out.
    pub(crate) fn apply(&mut self, id: ProviderId, state: Option<Versioned<Provider>>) {
        self.remove(id);
        if let Some(state) = state {
            self.insert(state);
        }
    }

    fn insert(&mut self, state: Versioned<Provider>) {
        let slot = self.stage(state);
        let entry = self.slots[slot as usize].take().expect("just staged");
        self.index(&entry, slot, true);
        self.slots[slot as usize] = Some(entry);
    }

    /// Adds a provider of a snapshot being loaded (no other with its id), without indexing
    /// it: [`Self::index_all`] indexes them all at once when the snapshot is in.
    pub(crate) fn stage(&mut self, state: Versioned<Provider>) -> u32 {
        let Versioned {
            value: provider,
            version,
        } = state;
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            (self.slots.len() - 1) as u32
        });
        let skills: Box<[u32]> = provider
            .skills
            .iter()
            .map(|s| self.interner.spelling(s))
            .collect();
        let figures = provider
            .skills
            .iter()
            .map(|s| provider.skill_reviews.get(s.key()))
            .collect();
        let entry = Entry {
            id: provider.id,
            owner: provider.owner,
            name: provider.name,
            skills,
            figures,
            cost: provider.cost,
            availability: provider.availability,
            reviews: provider.reviews,
            created_at: provider.created_at,
            version,
        };
        self.by_id.insert(entry.id, slot);
        self.slots[slot as usize] = Some(entry);
        slot
    }

    /// Builds every index over the staged providers, each ordered set from a sorted list (full
    /// nodes: about a third less memory than inserting one by one, and much faster).
    pub(crate) fn index_all(&mut self) {
        let (slots, interner) = (&self.slots, &self.interner);
        let entries = || {
            slots
                .iter()
                .enumerate()
                .filter_map(|(slot, e)| e.as_ref().map(|e| (slot as u32, e)))
        };
        let by_cost = entries()
            .map(|(slot, e)| CostRank {
                cost: e.cost.pence(),
                side: 0,
                reviews: e.reviews,
                id: e.id,
                slot,
            })
            .collect();
        let by_rating = entries()
            .map(|(slot, e)| RatingRank {
                reviews: e.reviews,
                id: e.id,
                slot,
            })
            .collect();
        let by_reviews = entries()
            .map(|(slot, e)| ReviewsRank {
                reviews: e.reviews,
                id: e.id,
                slot,
            })
            .collect();
        let by_newest = entries()
            .map(|(slot, e)| (created_micros(e.created_at), slot))
            .collect();
        // Per skill key, its postings by `point`: gathered per key, then each key's sorted
        // and built into its set, its buffer freed before the next key's is sorted.
        let per_skill = |point: fn(&Entry) -> i64| {
            let mut buckets: Vec<Vec<Posting>> = vec![Vec::new(); interner.keys.len()];
            for (slot, e) in entries() {
                for s in e.skills.iter() {
                    buckets[interner.key_of(*s) as usize].push((point(e), slot));
                }
            }
            buckets
                .into_iter()
                .map(|mut bucket| {
                    bucket.sort_unstable();
                    BTreeSet::from_iter(bucket)
                })
                .collect::<Vec<BTreeSet<Posting>>>()
        };
        let lists = per_skill(|e| e.cost.pence());
        let newest_postings = per_skill(|e| created_micros(e.created_at));
        let members = lists
            .iter()
            .map(|list| list.iter().map(|(_, slot)| *slot).collect())
            .collect();
        let mut trigrams: HashMap<u32, RoaringBitmap> = HashMap::new();
        for (slot, e) in entries() {
            for trigram in trigrams_of(&e.name.search_key()) {
                // Slots come in increasing order: each goes at the end of its bitmaps.
                trigrams.entry(trigram).or_default().insert(slot);
            }
        }
        self.by_cost = by_cost;
        self.by_rating = by_rating;
        self.by_reviews = by_reviews;
        self.by_newest = by_newest;
        self.postings = lists;
        self.newest_postings = newest_postings;
        self.members = members;
        self.trigrams = trigrams;
    }

    fn remove(&mut self, id: ProviderId) {
        let Some(slot) = self.by_id.remove(&id) else {
            return;
        };
        let entry = self.slots[slot as usize].take().expect("an indexed slot");
        self.index(&entry, slot, false);
        self.free.push(slot);
    }

    /// Adds `entry` at `slot` to every index (`add`), or takes it out.
    fn index(&mut self, entry: &Entry, slot: u32, add: bool) {
        fn put<T: Ord>(set: &mut BTreeSet<T>, item: T, add: bool) {
            if add {
                set.insert(item);
            } else {
                set.remove(&item);
            }
        }
        let posting = (entry.cost.pence(), slot);
        let (reviews, id) = (entry.reviews, entry.id);
        let created = (created_micros(entry.created_at), slot);
        let cost = entry.cost.pence();
        put(
            &mut self.by_cost,
            CostRank {
                cost,
                side: 0,
                reviews,
                id,
                slot,
            },
            add,
        );
        put(&mut self.by_rating, RatingRank { reviews, id, slot }, add);
        put(&mut self.by_reviews, ReviewsRank { reviews, id, slot }, add);
        put(&mut self.by_newest, created, add);
        for spelling in entry.skills.iter() {
            let key = self.interner.key_of(*spelling) as usize;
            if self.postings.len() <= key {
                self.postings.resize_with(key + 1, BTreeSet::new);
                self.newest_postings.resize_with(key + 1, BTreeSet::new);
                self.members.resize_with(key + 1, RoaringBitmap::new);
            }
            put(&mut self.postings[key], posting, add);
            put(&mut self.newest_postings[key], created, add);
            if add {
                self.members[key].insert(slot);
            } else {
                self.members[key].remove(slot);
            }
        }
        let folded = entry.name.search_key();
        for trigram in trigrams_of(&folded) {
            if add {
                self.trigrams.entry(trigram).or_default().insert(slot);
            } else if let Some(bitmap) = self.trigrams.get_mut(&trigram) {
                bitmap.remove(slot);
                if bitmap.is_empty() {
                    self.trigrams.remove(&trigram);
                }
            }
        }
    }

    fn entry(&self, slot: u32) -> &Entry {
        self.slots[slot as usize].as_ref().expect("an indexed slot")
    }

    /// The provider as the domain holds it.
    fn provider(&self, entry: &Entry) -> Provider {
        let skills =
            Skills::from_skills(entry.skills.iter().map(|s| self.interner.skill(*s).clone()));
        let skill_reviews = SkillReviews::new(
            entry
                .skills
                .iter()
                .zip(entry.figures.iter())
                .map(|(s, f)| (self.interner.skill(*s).key().to_owned(), *f)),
        );
        Provider {
            id: entry.id,
            owner: entry.owner,
            name: entry.name.clone(),
            skills,
            cost: entry.cost,
            availability: entry.availability.clone(),
            reviews: entry.reviews,
            skill_reviews,
            created_at: entry.created_at,
        }
    }

    /// The provider `id` and its version.
    pub(crate) fn get(&self, id: ProviderId) -> Option<Versioned<Provider>> {
        let entry = self.entry(*self.by_id.get(&id)?);
        Some(Versioned {
            value: self.provider(entry),
            version: entry.version,
        })
    }

    fn compile<'a>(&self, filter: &'a SearchFilter) -> Compiled<'a> {
        let keys = filter
            .skills()
            .iter()
            .filter_map(|s| self.interner.keys.get(s.key()).copied())
            .collect();
        Compiled { filter, keys }
    }

    /// [`SearchFilter::matches`] on an entry.
    fn matches(&self, compiled: &Compiled<'_>, entry: &Entry) -> bool {
        let filter = compiled.filter;
        let cost = entry.cost.pence();
        let mean = entry.reviews.mean();
        let matched = (filter.skills().is_empty()
            || entry
                .skills
                .iter()
                .any(|s| compiled.keys.contains(&self.interner.key_of(*s))))
            && filter.cost_gt().is_none_or(|gt| cost > gt)
            && filter.cost_lt().is_none_or(|lt| cost < lt)
            && filter.reviews_gt().value() <= mean
            && mean <= filter.reviews_lt().value()
            && filter
                .windows()
                .iter()
                .all(|w| entry.availability.has_day_in(w))
            && filter
                .name_key()
                .is_none_or(|needle| name_holds(entry.name.as_str(), needle));
        debug_assert_eq!(matched, filter.matches(&self.provider(entry)));
        matched
    }

    /// Where a search's candidates come from, and about how many there are.
    fn source(&self, compiled: &Compiled<'_>) -> (Source, u64) {
        let filter = compiled.filter;
        if let Some(needle) = filter.name_key().filter(|n| n.len() >= 3) {
            let mut bitmaps: Vec<&RoaringBitmap> = Vec::new();
            for trigram in trigrams_of(needle) {
                match self.trigrams.get(&trigram) {
                    Some(bitmap) => bitmaps.push(bitmap),
                    None => return (Source::Nothing, 0),
                }
            }
            bitmaps.sort_by_key(|b| b.len());
            // Intersected from the rarest trigram up, until the next bitmap is many times the
            // candidates so far: intersecting costs about its size, while every candidate's
            // name is checked anyway (`matches`), which drops those holding the trigrams apart.
            let mut names = bitmaps[0].clone();
            for bitmap in &bitmaps[1..] {
                if bitmap.len() > names.len().saturating_mul(NAME_INTERSECT_RATIO) {
                    break;
                }
                names &= *bitmap;
            }
            let n = names.len();
            return (
                Source::Names(NameCandidates::new(names, self.slots.len())),
                n,
            );
        }
        if !filter.skills().is_empty() {
            if compiled.keys.is_empty() {
                return (Source::Nothing, 0);
            }
            let n = compiled
                .keys
                .iter()
                .map(|k| self.postings.get(*k as usize).map_or(0, |p| p.len() as u64))
                .sum();
            return (Source::Skills(compiled.keys.clone()), n);
        }
        (Source::All, self.len() as u64)
    }

    /// The cost bounds of a filter, as bounds on `by_cost` and postings.
    fn cost_bounds(filter: &SearchFilter) -> (Bound<Posting>, Bound<Posting>) {
        let low = filter
            .cost_gt()
            .map_or(Bound::Unbounded, |gt| Bound::Excluded((gt, u32::MAX)));
        let high = filter
            .cost_lt()
            .map_or(Bound::Unbounded, |lt| Bound::Excluded((lt, 0)));
        (low, high)
    }

    /// The postings of `lists` (skill keys) in `family` (per skill key, its postings) within
    /// `bounds`, merged in posting order (descending when `descending`), each provider once
    /// with the number of lists it is in.
    fn merged<'a>(
        family: &'a [BTreeSet<Posting>],
        lists: &[u32],
        bounds: (Bound<Posting>, Bound<Posting>),
        descending: bool,
    ) -> Merged<'a> {
        let heads = lists
            .iter()
            .filter_map(|k| family.get(*k as usize))
            .map(|set| -> Box<dyn Iterator<Item = Posting> + 'a> {
                let range = range(set, bounds);
                if descending {
                    Box::new(range.rev().copied())
                } else {
                    Box::new(range.copied())
                }
            })
            .map(|mut it| {
                let head = it.next();
                (head, it)
            })
            .collect();
        Merged { heads, descending }
    }

    /// Postings in the order of their coarse points (day rates, or creation microseconds) as
    /// runs of equal points, each run put in `sort`'s exact order (an order led by that point:
    /// a cost order, or newest).
    fn in_runs<'a>(
        &'a self,
        postings: impl Iterator<Item = Posting> + 'a,
        sort: SearchSort,
    ) -> impl Iterator<Item = u32> + 'a {
        let mut postings = postings.peekable();
        let mut run: Vec<u32> = Vec::new();
        std::iter::from_fn(move || {
            if run.is_empty() {
                let (cost, slot) = postings.next()?;
                run.push(slot);
                while let Some((_, slot)) = postings.next_if(|(c, _)| *c == cost) {
                    run.push(slot);
                }
                if run.len() > 1 {
                    run.sort_by(|a, b| {
                        sort.compare_keys(&self.entry(*b).point(), &self.entry(*a).point())
                    });
                } else {
                    run.reverse();
                }
            }
            run.pop()
        })
    }

    /// One page of the providers `filter` matches, in `sort` (see
    /// [`provider_ports::ProviderRepository::search`]).
    pub(crate) fn search(
        &self,
        filter: &SearchFilter,
        sort: SearchSort,
        paging: &Paging<SortKey>,
        total: bool,
    ) -> Found<Provider> {
        let compiled = self.compile(filter);
        let (source, estimate) = self.source(&compiled);
        let need = paging.offset() + paging.size() as usize + 1;
        let after = match paging {
            Paging::After { key, .. } => Some(*key),
            Paging::Offset(_) => None,
        };
        let cost_sort = matches!(sort, SearchSort::CostAsc | SearchSort::CostDesc);
        let slots = match source {
            Source::Nothing => Vec::new(),
            // A skill filter in an order its postings keep: their merge, walked in runs.
            Source::Skills(ref keys) if cost_sort || sort == SearchSort::Newest => {
                let (family, bounds, descending) = if sort == SearchSort::Newest {
                    (
                        &self.newest_postings,
                        Self::newest_bounds(after.as_ref()),
                        true,
                    )
                } else {
                    (
                        &self.postings,
                        Self::bounds_after(filter, sort, after.as_ref()),
                        sort == SearchSort::CostDesc,
                    )
                };
                let walk = self.in_runs(
                    Self::merged(family, keys, bounds, descending).map(|(posting, _)| posting),
                    sort,
                );
                self.take_ordered(walk, &compiled, &source, sort, after.as_ref(), need, None)
                    .unwrap_or_default()
            }
            Source::All => self
                .take_ordered(
                    self.walk(filter, sort, after.as_ref()),
                    &compiled,
                    &source,
                    sort,
                    after.as_ref(),
                    need,
                    None,
                )
                .unwrap_or_default(),
            // A narrow source is collected and ordered; a broad one is walked in order (a
            // step that tests a bit costs about a twentieth of collecting a candidate, which
            // reads its entry), for at most twenty times as many steps as collecting would
            // take.
            ref narrow => {
                let population = (self.len() as u64).max(1);
                let walk_steps = need as u64 * population / estimate.max(1);
                let walked = if walk_steps < estimate.saturating_mul(WALK_STEPS_PER_CANDIDATE) {
                    self.take_ordered(
                        self.walk(filter, sort, after.as_ref()),
                        &compiled,
                        narrow,
                        sort,
                        after.as_ref(),
                        need,
                        Some((estimate * WALK_STEPS_PER_CANDIDATE) as usize),
                    )
                } else {
                    None
                };
                walked.unwrap_or_else(|| {
                    let candidates = self.candidates(narrow, filter);
                    self.collect_ordered(candidates, &compiled, sort, after.as_ref(), need)
                })
            }
        };
        let has_more = slots.len() > paging.offset() + paging.size() as usize;
        let items = slots
            .into_iter()
            .skip(paging.offset())
            .take(paging.size() as usize)
            .map(|slot| self.provider(self.entry(slot)))
            .collect();
        Found {
            page: PageOf { items, has_more },
            total: total.then(|| Total::counted(self.count(&compiled))),
        }
    }

    /// The filter's cost bounds, narrowed to what may follow `after` in a cost order.
    fn bounds_after(
        filter: &SearchFilter,
        sort: SearchSort,
        after: Option<&SortKey>,
    ) -> (Bound<Posting>, Bound<Posting>) {
        let (mut low, mut high) = Self::cost_bounds(filter);
        if let Some(after) = after {
            let at = after.cost.pence();
            let tighter = |bound: Bound<Posting>, edge: Bound<Posting>, keep_max: bool| {
                let value = |b: &Bound<Posting>| match b {
                    Bound::Included(p) | Bound::Excluded(p) => Some(p.0),
                    Bound::Unbounded => None,
                };
                match value(&bound) {
                    Some(v) if (keep_max && v > at) || (!keep_max && v < at) => bound,
                    _ => edge,
                }
            };
            match sort {
                SearchSort::CostDesc => {
                    high = tighter(high, Bound::Included((at, u32::MAX)), false);
                }
                SearchSort::CostAsc => {
                    low = tighter(low, Bound::Included((at, 0)), true);
                }
                _ => {}
            }
        }
        (low, high)
    }

    /// The bounds on the newest order's postings of what may follow `after` (walked
    /// backwards: at most `after`'s microsecond).
    fn newest_bounds(after: Option<&SortKey>) -> (Bound<Posting>, Bound<Posting>) {
        let high = after.map_or(Bound::Unbounded, |k| {
            Bound::Included((created_micros(k.created_at), u32::MAX))
        });
        (Bound::Unbounded, high)
    }

    /// Every provider in `sort`, from what may follow `after` on.
    fn walk<'a>(
        &'a self,
        filter: &SearchFilter,
        sort: SearchSort,
        after: Option<&SortKey>,
    ) -> Box<dyn Iterator<Item = u32> + 'a> {
        match sort {
            SearchSort::CostDesc | SearchSort::CostAsc => {
                let (low, high) = Self::bounds_after(filter, sort, after);
                let range = range(&self.by_cost, (CostRank::edge(low), CostRank::edge(high)));
                if sort == SearchSort::CostAsc {
                    return Box::new(range.map(|r| r.slot));
                }
                // Backwards, each run of equal day rates put back in its order.
                let mut ranks = range.rev().peekable();
                let mut run: Vec<u32> = Vec::new();
                Box::new(std::iter::from_fn(move || {
                    if run.is_empty() {
                        let last = ranks.next()?;
                        run.push(last.slot);
                        while let Some(rank) = ranks.next_if(|r| r.cost == last.cost) {
                            run.push(rank.slot);
                        }
                    }
                    run.pop()
                }))
            }
            SearchSort::RatingDesc => {
                let start = after.map_or(Bound::Unbounded, |k| {
                    Bound::Excluded(RatingRank {
                        reviews: k.reviews,
                        id: k.id,
                        slot: u32::MAX,
                    })
                });
                Box::new(
                    self.by_rating
                        .range((start, Bound::Unbounded))
                        .map(|r| r.slot),
                )
            }
            SearchSort::ReviewsDesc => {
                let start = after.map_or(Bound::Unbounded, |k| {
                    Bound::Excluded(ReviewsRank {
                        reviews: k.reviews,
                        id: k.id,
                        slot: u32::MAX,
                    })
                });
                Box::new(
                    self.by_reviews
                        .range((start, Bound::Unbounded))
                        .map(|r| r.slot),
                )
            }
            SearchSort::Newest => Box::new(
                self.in_runs(
                    range(&self.by_newest, Self::newest_bounds(after))
                        .rev()
                        .copied(),
                    sort,
                ),
            ),
        }
    }

    /// The first `need` matches of an ordered walk (past `after`); `None` when `budget` steps
    /// were not enough.
    #[allow(clippy::too_many_arguments)]
    fn take_ordered(
        &self,
        walk: impl Iterator<Item = u32>,
        compiled: &Compiled<'_>,
        source: &Source,
        sort: SearchSort,
        after: Option<&SortKey>,
        need: usize,
        budget: Option<usize>,
    ) -> Option<Vec<u32>> {
        let mut found = Vec::with_capacity(need.min(1024));
        let open = compiled.filter == &SearchFilter::default();
        for (step, slot) in walk.enumerate() {
            if budget.is_some_and(|b| step >= b) {
                return None;
            }
            // A slot the source does not name cannot match: skipped on a bit, not an entry.
            if !self.named_by(source, slot) {
                continue;
            }
            // An open filter with no cursor never needs the entry itself.
            let wanted = (after.is_none() && open) || {
                let entry = self.entry(slot);
                after.is_none_or(|k| sort.compare_keys(&entry.point(), k) == Ordering::Greater)
                    && (open || self.matches(compiled, entry))
            };
            if wanted {
                found.push(slot);
                if found.len() == need {
                    break;
                }
            }
        }
        Some(found)
    }

    /// Whether `source` may hold `slot` (every slot of [`Source::All`]).
    fn named_by(&self, source: &Source, slot: u32) -> bool {
        match source {
            Source::All => true,
            Source::Nothing => false,
            Source::Names(names) => names.contains(slot),
            Source::Skills(keys) => keys.iter().any(|k| {
                self.members
                    .get(*k as usize)
                    .is_some_and(|m| m.contains(slot))
            }),
        }
    }

    /// The slots a narrow source names.
    fn candidates(&self, source: &Source, filter: &SearchFilter) -> Vec<u32> {
        match source {
            Source::Names(names) => names.bitmap.iter().collect(),
            Source::Skills(keys) => {
                Self::merged(&self.postings, keys, Self::cost_bounds(filter), false)
                    .map(|((_, slot), _)| slot)
                    .collect()
            }
            Source::All | Source::Nothing => Vec::new(),
        }
    }

    /// The first `need` matches among `candidates` (past `after`), in `sort`.
    fn collect_ordered(
        &self,
        candidates: Vec<u32>,
        compiled: &Compiled<'_>,
        sort: SearchSort,
        after: Option<&SortKey>,
        need: usize,
    ) -> Vec<u32> {
        let mut found: Vec<(SortKey, u32)> = candidates
            .into_iter()
            .filter_map(|slot| {
                let entry = self.entry(slot);
                let point = entry.point();
                (after.is_none_or(|k| sort.compare_keys(&point, k) == Ordering::Greater)
                    && self.matches(compiled, entry))
                .then_some((point, slot))
            })
            .collect();
        let order = |a: &(SortKey, u32), b: &(SortKey, u32)| sort.compare_keys(&a.0, &b.0);
        if found.len() > need {
            found.select_nth_unstable_by(need - 1, order);
            found.truncate(need);
        }
        found.sort_unstable_by(order);
        found.into_iter().map(|(_, slot)| slot).collect()
    }

    /// How many providers `compiled` matches, counted up to one past [`Total::LIMIT`].
    fn count(&self, compiled: &Compiled<'_>) -> u64 {
        let limit = Total::LIMIT as usize + 1;
        let filter = compiled.filter;
        let (source, _) = self.source(compiled);
        // Only skills and day rates: every posting in the bounds matches.
        let plain = filter.name_key().is_none()
            && filter.windows().is_empty()
            && filter.reviews_gt() == RatingBound::MIN
            && filter.reviews_lt() == RatingBound::MAX;
        let matching = |slot: &u32| plain || self.matches(compiled, self.entry(*slot));
        let counted = match source {
            Source::Nothing => 0,
            Source::Names(names) => names.bitmap.iter().filter(matching).take(limit).count(),
            // One skill, plain: its postings in the bounds, counted without a merge.
            Source::Skills(keys) if plain && keys.len() == 1 => {
                self.postings.get(keys[0] as usize).map_or(0, |set| {
                    range(set, Self::cost_bounds(filter)).take(limit).count()
                })
            }
            Source::Skills(keys) => {
                Self::merged(&self.postings, &keys, Self::cost_bounds(filter), false)
                    .map(|((_, slot), _)| slot)
                    .filter(matching)
                    .take(limit)
                    .count()
            }
            Source::All => range(&self.by_cost, {
                let (low, high) = Self::cost_bounds(filter);
                (CostRank::edge(low), CostRank::edge(high))
            })
            .map(|r| r.slot)
            .filter(matching)
            .take(limit)
            .count(),
        };
        counted as u64
    }

    /// One page of the providers suited to `job`, in [`recommendation_order`].
    ///
    /// Walks the postings of the job's skills from its highest affordable day rate down, each
    /// provider once with how many of the job's skills it has. The order ranks more matched
    /// skills first, then higher day rates: the walk stops at the end of a run of equal day
    /// rates once it holds a page of providers matching every skill a provider may match;
    /// otherwise those matching fewer are checked afterwards, most matched first, each group
    /// in day-rate order, until a page is certain.
    pub(crate) fn recommend(&self, job: &JobRequest, page: Page) -> PageOf<Recommendation> {
        let need = page.offset() + page.size() as usize + 1;
        let keys: Vec<u32> = job
            .skills()
            .iter()
            .filter_map(|s| self.interner.keys.get(s.key()).copied())
            .collect();
        let most = keys.len();
        let affordable = (
            Bound::Unbounded,
            Bound::Included((job.max_day_rate(), u32::MAX)),
        );
        let minimum = job.minimum_rating().value();
        let evaluate = |slot: u32| -> Option<Recommendation> {
            let entry = self.entry(slot);
            if entry.reviews.mean() < minimum {
                return None;
            }
            job.evaluate(&self.provider(entry))
        };
        let mut found: Vec<Recommendation> = Vec::new();
        // Candidates matching fewer skills than the most, by how many they match (index
        // `matched - 1`), in day-rate order.
        let mut fewer: Vec<Vec<(i64, u32)>> = vec![Vec::new(); most.saturating_sub(1)];
        let mut complete = false;
        let mut last_cost = None;
        for ((cost, slot), matched) in Self::merged(&self.postings, &keys, affordable, true) {
            if last_cost != Some(cost) && found.len() >= need {
                complete = true;
                break;
            }
            last_cost = Some(cost);
            if matched == most {
                found.extend(evaluate(slot));
            } else {
                fewer[matched - 1].push((cost, slot));
            }
        }
        if !complete {
            'levels: for level in fewer.iter().rev() {
                let mut last_cost = None;
                for (cost, slot) in level {
                    if last_cost != Some(*cost) && found.len() >= need {
                        break 'levels;
                    }
                    last_cost = Some(*cost);
                    found.extend(evaluate(*slot));
                }
            }
        }
        found.sort_by(recommendation_order);
        page.slice(found)
    }
}

/// A k-way merge of postings walked in one direction: each provider once, with the number of
/// lists holding it.
struct Merged<'a> {
    heads: Vec<(Option<Posting>, Box<dyn Iterator<Item = Posting> + 'a>)>,
    descending: bool,
}

impl Iterator for Merged<'_> {
    type Item = (Posting, usize);

    fn next(&mut self) -> Option<Self::Item> {
        let first = self.heads.iter().filter_map(|(head, _)| *head);
        let next = if self.descending {
            first.max()
        } else {
            first.min()
        }?;
        let mut count = 0;
        for (head, rest) in &mut self.heads {
            if *head == Some(next) {
                count += 1;
                *head = rest.next();
            }
        }
        Some((next, count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use provider_domain::{JobInput, RangeInput, SearchInput};
    use provider_ports::contract::{draft, provider, user};

    /// Providers of one day rate and skills, rated differently, so that only the rating and
    /// the id order them, all created within one microsecond (so that only the nanosecond and
    /// the id order them newest first); and the model holding them.
    fn tied(n: u64) -> (Vec<Provider>, Model) {
        let owner = user();
        let mut model = Model::default();
        let created = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let providers: Vec<Provider> = (0..n)
            .map(|i| {
                let mut p = provider(
                    owner,
                    draft(
                        &format!("Tied {i}"),
                        &["Go", "Rust"],
                        5_000,
                        &[("2027-01-01", "2027-01-31")],
                    ),
                );
                // Ratings that do not follow the order the model stores them in.
                p.reviews = ReviewStats {
                    count: 1 + i % 3,
                    sum_tenths: (i * 7) % 50 * (1 + i % 3),
                };
                // Two in three created in the same nanosecond; none in the order stored.
                p.created_at =
                    created + time::Duration::nanoseconds(((i * 5) % 3 / 2 * 300) as i64);
                p
            })
            .collect();
        for p in &providers {
            model.apply(
                p.id,
                Some(Versioned {
                    value: p.clone(),
                    version: Version::new(1),
                }),
            );
        }
        (providers, model)
    }

    #[test]
    fn a_recommendation_page_ending_inside_a_run_of_equal_day_rates_is_exact() {
        let (providers, model) = tied(40);
        let job = JobRequest::parse(&JobInput {
            job_budget_in_pence: Some(50_000),
            expected_job_duration_in_days: Some(2),
            skills: Some(vec!["go".into(), "rust".into()]),
            availability: Some(vec![RangeInput {
                from_date: "2027-01-01".into(),
                to_date: "2027-01-31".into(),
            }]),
            minimum_review_rating: None,
        })
        .expect("valid job");
        let mut all: Vec<Recommendation> =
            providers.iter().filter_map(|p| job.evaluate(p)).collect();
        all.sort_by(recommendation_order);
        for size in [1, 2, 3, 7] {
            let page = Page::new(Some(1), Some(size)).expect("page");
            assert_eq!(
                model.recommend(&job, page),
                page.slice(all.clone()),
                "size {size}"
            );
        }
    }

    #[test]
    fn a_search_page_or_walk_by_key_ending_inside_a_run_of_equal_points_is_exact() {
        let (providers, model) = tied(40);
        for sort in SearchSort::ALL {
            for skills in [None, Some(vec!["rust".to_owned()])] {
                let filter = SearchFilter::parse(&SearchInput {
                    skills,
                    ..SearchInput::default()
                })
                .expect("valid search");
                let mut all = providers.clone();
                all.sort_by(|a, b| sort.compare(a, b));
                for size in [1, 3, 7] {
                    let page = Page::new(Some(2), Some(size)).expect("page");
                    let found = model.search(&filter, sort, &Paging::Offset(page), true);
                    assert_eq!(found.page, page.slice(all.clone()), "{sort:?} size {size}");
                    assert_eq!(found.total, Some(Total::counted(40)));
                }
                // Pages after a key inside the run lead through the rest of it in order.
                for size in [1, 3, 7] {
                    let mut walked: Vec<Provider> = Vec::new();
                    loop {
                        let paging = match walked.last() {
                            None => Paging::Offset(Page::new(Some(1), Some(size)).expect("page")),
                            Some(last) => Paging::After {
                                key: SortKey::of(last),
                                size: size as u32,
                            },
                        };
                        let found = model.search(&filter, sort, &paging, false);
                        walked.extend(found.page.items);
                        if !found.page.has_more {
                            break;
                        }
                    }
                    assert_eq!(walked, all, "{sort:?} walked by key, size {size}");
                }
            }
        }
    }
}

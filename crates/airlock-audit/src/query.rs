//! Selecting what was recorded: runs by id prefix, start time and skill,
//! and the records that belong to no run (refusals, admin changes,
//! recoveries) by the time they were recorded. `airlock audit show` and
//! `airlock audit export` select with a [`Selection`].

use crate::record::{Record, kind};
use crate::schema;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

/// What to select (each `None`: no restriction).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this run: its id, or a unique prefix of it.
    pub run: Option<String>,
    /// Only runs that started at or after this time (and run-less records
    /// recorded then or later): an RFC 3339 time or date, or an age (`2h`).
    pub since: Option<String>,
    /// Only runs of the skill of this name.
    pub skill: Option<String>,
}

impl Filter {
    /// Whether anything is restricted.
    pub fn is_any(&self) -> bool {
        self.run.is_some() || self.since.is_some() || self.skill.is_some()
    }
}

/// Why a filter selects nothing sensible.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// `since` is neither a time, a date nor an age.
    #[error(
        "--since {0:?} is not a time: write an RFC 3339 time or date (2026-11-26T09:00:00Z, 2026-11-26) or an age (30m, 2h, 7days)"
    )]
    NotATime(String),
    /// No recorded run has an id starting with this.
    #[error("no recorded run has an id starting with `{0}` (see `airlock audit show`)")]
    NoSuchRun(String),
    /// Several recorded runs have an id starting with this.
    #[error("`{prefix}` matches {} runs ({}); give more of the id", runs.len(), first_five(runs))]
    AmbiguousRun {
        /// The prefix given.
        prefix: String,
        /// The ids it matches, ascending.
        runs: Vec<String>,
    },
}

fn first_five(runs: &[String]) -> String {
    runs.iter()
        .take(5)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parse a `since` time: an RFC 3339 time, a date (midnight UTC), or an
/// age like `2h` (that long before now).
pub fn parse_since(text: &str) -> Result<SystemTime, QueryError> {
    if let Ok(t) = humantime::parse_rfc3339_weak(text) {
        return Ok(t);
    }
    if let Ok(t) = humantime::parse_rfc3339_weak(&format!("{text}T00:00:00")) {
        return Ok(t);
    }
    if let Ok(age) = humantime::parse_duration(text) {
        return Ok(SystemTime::now()
            .checked_sub(age)
            .unwrap_or(SystemTime::UNIX_EPOCH));
    }
    Err(QueryError::NotATime(text.to_string()))
}

/// When `record` was recorded, if its time is readable.
pub fn time_of(record: &Record) -> Option<SystemTime> {
    humantime::parse_rfc3339(&record.time).ok()
}

/// When each run started (its `run-start` record's time).
pub fn run_starts(records: &[(Record, String)]) -> BTreeMap<String, SystemTime> {
    records
        .iter()
        .filter(|(r, _)| r.kind == kind::RUN_START)
        .filter_map(|(r, _)| Some((r.run.clone()?, time_of(r)?)))
        .collect()
}

/// The skill name a `run-start` record names.
fn skill_of(record: &Record) -> Option<String> {
    schema::RunStart::deserialize(&record.data)
        .ok()
        .map(|start| start.skill.name)
}

/// The runs (and run-less records) a [`Filter`] selects from a log.
#[derive(Debug, Clone)]
pub struct Selection {
    runs: Option<BTreeSet<String>>,
    since: Option<SystemTime>,
    any_filter: bool,
    starts: BTreeMap<String, SystemTime>,
}

impl Selection {
    /// Resolve `filter` against `records` (a log, in order): the run
    /// prefix must match exactly one recorded run.
    pub fn new(filter: &Filter, records: &[(Record, String)]) -> Result<Self, QueryError> {
        let since = filter.since.as_deref().map(parse_since).transpose()?;
        let mut starts: BTreeMap<&str, &Record> = BTreeMap::new();
        for (r, _) in records {
            if r.kind == kind::RUN_START
                && let Some(run) = &r.run
            {
                starts.insert(run, r);
            }
        }
        let mut runs: Option<BTreeSet<String>> = None;
        if let Some(prefix) = &filter.run {
            let matching: Vec<String> = starts
                .keys()
                .filter(|id| id.starts_with(prefix.as_str()))
                .map(|id| id.to_string())
                .collect();
            match matching.len() {
                0 => return Err(QueryError::NoSuchRun(prefix.clone())),
                1 => {}
                _ => {
                    return Err(QueryError::AmbiguousRun {
                        prefix: prefix.clone(),
                        runs: matching,
                    });
                }
            }
            runs = Some(matching.into_iter().collect());
        }
        if let Some(skill) = &filter.skill {
            let by_skill: BTreeSet<String> = starts
                .iter()
                .filter(|(_, r)| skill_of(r).as_deref() == Some(skill.as_str()))
                .map(|(id, _)| id.to_string())
                .collect();
            runs = Some(match runs {
                Some(r) => r.intersection(&by_skill).cloned().collect(),
                None => by_skill,
            });
        }
        Ok(Self {
            runs,
            since,
            any_filter: filter.is_any(),
            starts: run_starts(records),
        })
    }

    /// Whether the filter restricted anything.
    pub fn is_filtered(&self) -> bool {
        self.any_filter
    }

    /// When the run `record` belongs to started, if it belongs to one.
    pub fn run_started(&self, record: &Record) -> Option<SystemTime> {
        record
            .run
            .as_ref()
            .and_then(|id| self.starts.get(id).copied())
    }

    /// Whether `record` is selected: it belongs to a selected run, or (with
    /// no run or skill given) it was recorded at or after `since`, its run's
    /// start deciding for a record of a run.
    pub fn accepts(&self, record: &Record) -> bool {
        let run_started = self.run_started(record);
        if let Some(runs) = &self.runs {
            return record.run.as_ref().is_some_and(|r| runs.contains(r))
                && self
                    .since
                    .is_none_or(|s| run_started.is_some_and(|t| t >= s));
        }
        if let Some(since) = self.since {
            let t = run_started.or_else(|| time_of(record));
            return t.is_some_and(|t| t >= since);
        }
        true
    }

    /// Whether an export selects `record`: as [`Selection::accepts`], but
    /// with a filter, the log's own records (its start, file starts,
    /// checkpoints) are not selected for themselves.
    pub fn exports(&self, record: &Record) -> bool {
        if self.any_filter
            && matches!(
                record.kind.as_str(),
                kind::CHECKPOINT | kind::SEGMENT_START | kind::LOG_START
            )
        {
            return false;
        }
        self.accepts(record)
    }
}

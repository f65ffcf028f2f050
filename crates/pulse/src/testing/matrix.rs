//! The test matrix: the bus backends and schema tracks a test run covers. CI runs one leg
//! per backend and track, naming them in `EVENT_BUS_BACKEND` and `SCHEMA_TRACK`; a local run
//! leaves them unset and covers every backend and track. Tests that can run on either
//! backend or track run on those these name; a value that names none of them fails, so that
//! a typo in a CI leg cannot make it test nothing.

use core_contracts::Track;

use crate::BackendKind;

/// Every backend, in the order tests run them.
const BACKENDS: [BackendKind; 2] = [BackendKind::InMemory, BackendKind::Redis];

/// The backends of this run: the one `EVENT_BUS_BACKEND` names (`inmem` or `redis`), every
/// backend when it is unset or empty. Panics on any other value.
pub fn backends() -> Vec<BackendKind> {
    select("EVENT_BUS_BACKEND", &BACKENDS, |b| b.as_str())
}

/// The tracks of this run: the one `SCHEMA_TRACK` names (`v1` or `v2`), every track when it
/// is unset or empty. Panics on any other value.
pub fn tracks() -> Vec<Track> {
    select("SCHEMA_TRACK", &Track::ALL, |t| t.as_str())
}

fn select<T: Copy>(var: &str, all: &[T], name: impl Fn(T) -> &'static str) -> Vec<T> {
    let value = std::env::var(var).unwrap_or_default();
    pick(var, value.trim(), all, name)
}

fn pick<T: Copy>(var: &str, value: &str, all: &[T], name: impl Fn(T) -> &'static str) -> Vec<T> {
    if value.is_empty() {
        return all.to_vec();
    }
    let chosen: Vec<T> = all
        .iter()
        .copied()
        .filter(|x| name(*x).eq_ignore_ascii_case(value))
        .collect();
    assert!(
        !chosen.is_empty(),
        "{var}={value:?} names no leg of the test matrix: one of {}, or unset for all",
        all.iter().map(|x| name(*x)).collect::<Vec<_>>().join(", ")
    );
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_means_every_leg_and_a_name_means_its_own() {
        let name = |b: BackendKind| b.as_str();
        assert_eq!(pick("B", "", &BACKENDS, name), BACKENDS.to_vec());
        assert_eq!(
            pick("B", "redis", &BACKENDS, name),
            vec![BackendKind::Redis]
        );
        assert_eq!(
            pick("B", "inmem", &BACKENDS, name),
            vec![BackendKind::InMemory]
        );
        assert_eq!(
            pick("T", "v2", &Track::ALL, |t| t.as_str()),
            vec![Track::V2]
        );
    }

    #[test]
    #[should_panic(expected = "names no leg")]
    fn a_name_of_no_leg_fails() {
        pick("B", "kafka", &BACKENDS, |b| b.as_str());
    }
}

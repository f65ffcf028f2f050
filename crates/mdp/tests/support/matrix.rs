//! The test matrix of the end-to-end tests (`pulse::testing::backends` and `tracks`: the
//! backend and track a CI leg names in `EVENT_BUS_BACKEND` and `SCHEMA_TRACK`, every one
//! when they are unset). Tests of the services run on each track (their bus is always a
//! Redis: processes share no in-process bus); tests of `mdp run` run on each backend and
//! track.

use std::process::Command;

use core_contracts::Track;
use pulse::BackendKind;

use super::redis_server::RedisServer;

/// Runs `test` once on each track of the matrix.
pub(crate) fn each_track(mut test: impl FnMut(Track)) {
    for track in pulse::testing::tracks() {
        // Captured with the test's output: names the leg of a failure.
        eprintln!("== on track {track}");
        test(track);
    }
}

/// One backend and track of the matrix, with the private Redis of the `redis` backend.
pub(crate) struct Leg {
    /// The bus backend.
    pub backend: BackendKind,
    /// The schema track the processes write.
    pub track: Track,
    redis: Option<RedisServer>,
}

impl std::fmt::Debug for Leg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.backend.as_str(), self.track)
    }
}

impl Leg {
    /// Names the leg's bus and track to `cmd` (`EVENT_BUS_BACKEND`, `REDIS_URL`,
    /// `SCHEMA_TRACK`).
    pub(crate) fn apply(&self, cmd: &mut Command) {
        cmd.env("EVENT_BUS_BACKEND", self.backend.as_str())
            .env("SCHEMA_TRACK", self.track.as_str());
        if let Some(redis) = &self.redis {
            cmd.env("REDIS_URL", redis.url());
        }
    }
}

/// Runs `test` once on each backend and track of the matrix, each `redis` leg on a private
/// Redis of its own; without `redis-server` those legs are skipped (a failure under CI).
pub(crate) fn each_leg(mut test: impl FnMut(&Leg)) {
    'backends: for backend in pulse::testing::backends() {
        for track in pulse::testing::tracks() {
            let redis = match backend {
                BackendKind::InMemory => None,
                BackendKind::Redis => match RedisServer::start() {
                    Some(redis) => Some(redis),
                    None => continue 'backends,
                },
            };
            let leg = Leg {
                backend,
                track,
                redis,
            };
            eprintln!("== on {leg:?}");
            test(&leg);
        }
    }
}

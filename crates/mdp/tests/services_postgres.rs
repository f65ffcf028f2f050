//! `mdp store` on PostgreSQL: two stores of the group write into a schema of their own; one
//! is killed with SIGKILL mid-run, the other takes over, and every bar is in PostgreSQL
//! exactly once. Without a reachable server (or `redis-server`) the test skips loudly;
//! under `CI=true` it fails instead.

mod support;

use support::matrix::each_track;
use support::world::{LONG, World, all_written, finish, stop};

#[test]
fn two_stores_on_postgres_survive_a_kill_and_write_every_bar_once() {
    each_track(|track| {
        let Some(world) = World::postgres(track) else {
            return;
        };
        let mut a = world.store("store-a", &["--sink-rate", "1500"], &[]);
        let mut b = world.store("store-b", &["--sink-rate", "1500"], &[]);
        let mut pipeline = world.pipeline(
            "pipeline",
            &["--port", "0", "--bars", "6000", "--rate", "20000"],
        );
        assert!(world.wait_rows(1500, LONG), "no progress:\n{}", a.log());
        a.kill9();
        finish(&mut pipeline);
        all_written(&world, 6000, &[&b]);
        let support::world::Db::Postgres(schema) = &world.db else {
            unreachable!("a PostgreSQL world");
        };
        assert_eq!(schema.distinct_keys(), 6000, "one row per bar key");
        stop(&mut b);
        assert_eq!(world.pending(), 0, "every entry acknowledged");
    });
}

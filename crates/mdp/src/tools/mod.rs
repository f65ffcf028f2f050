//! Operator tools: `mdp pulse tail|dlq|stats` and `mdp replay-dead-letters`.

mod pulse_cmd;
mod replay;
mod tail;

pub use pulse_cmd::run_pulse;
pub use replay::replay_dead_letters;

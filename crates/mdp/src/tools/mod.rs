//! Operator tools: `mdp pulse tail|dlq|stats`, `mdp replay-dead-letters` and `mdp ctl`.

mod ctl;
mod pulse_cmd;
mod replay;
mod tail;

pub use ctl::run_ctl;
pub use pulse_cmd::run_pulse;
pub use replay::replay_dead_letters;

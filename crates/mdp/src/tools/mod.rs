//! Operator tools: `mdp pulse tail|dlq|stats`, `mdp replay-dead-letters`, `mdp ctl` and
//! `mdp top`.

mod ctl;
mod pulse_cmd;
mod replay;
mod tail;
mod top;

pub use ctl::run_ctl;
pub use pulse_cmd::run_pulse;
pub use replay::replay_dead_letters;
pub use top::run_top;

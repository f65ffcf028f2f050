//! `mdp run`: the whole loop in one process (pipeline -> coordinator -> sink, feedback back
//! through Pulse), with a progress line and a summary.

mod command;
mod demo;
mod depths;
mod levels;
mod progress;
mod story;
mod submitter;
mod summary;
mod view;

pub use command::run;
pub use depths::DepthHistogram;
pub use levels::LevelCounts;
pub(crate) use story::thousands;
pub use submitter::CoordinatorSubmitter;
pub use summary::Summary;
pub(crate) use view::level_color;

//! The `mdp` binary. It has no subcommands yet; it prints its version and the contract
//! versions it speaks.

use core_contracts::{Track, schema::CORE_VERSION};

fn main() {
    let tracks: Vec<&str> = Track::ALL.iter().map(|t| t.as_str()).collect();
    println!(
        "mdp {} (core contracts {CORE_VERSION}, tracks {})",
        env!("CARGO_PKG_VERSION"),
        tracks.join(", ")
    );
}

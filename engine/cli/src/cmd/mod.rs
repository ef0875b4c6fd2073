//! One module per subcommand: each turns parsed flags into calls on the engine crates.

pub mod alerts;
pub mod analyze;
pub mod audit;
pub mod bench;
pub mod camera;
pub mod case;
pub mod clip;
pub mod clock;
pub mod coverage;
pub mod decode;
pub mod detect;
pub mod dossier;
pub mod eval;
pub mod eval_mot;
pub mod eval_track;
pub mod frame;
pub mod ingest;
pub mod models;
pub mod plates;
pub mod probe;
pub mod search;
pub mod sources;
pub mod synopsis;
pub mod verify;

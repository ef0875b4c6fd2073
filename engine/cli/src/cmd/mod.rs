//! One module per subcommand: each turns parsed flags into calls on the engine crates.

pub mod bench;
pub mod decode;
pub mod ingest;
pub mod probe;
pub mod sources;
pub mod verify;
pub mod workspace;

//! Rebuild when embedded files change: the migrations (`sqlx::migrate!`), the
//! service catalog and the agent seed are compiled into the binary, and the
//! macros that embed them do not tell Cargo about the files on stable Rust.

fn main() {
    for dir in ["migrations", "services", "seed"] {
        println!("cargo:rerun-if-changed={dir}");
    }
}

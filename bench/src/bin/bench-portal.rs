//! `portal` itself, built as part of the bench package: `cargo run -p bench` then
//! compiles the shared dependencies once, with the bench's features, instead of a
//! second time for `-p portal-api` alone. The same code as `api/src/main.rs`.
fn main() -> std::process::ExitCode {
    portal_api::cli::process::main()
}

//! `portal` itself, built as a binary of the tests package: `cargo test` builds it
//! before it runs the integration tests, with the same features as everything else
//! it builds (`process::portal_binary`). Building `-p portal-api --bin portal` from a
//! test instead resolved the dependencies' features anew (no dev-dependencies) and
//! compiled most of them a second time, ~3 minutes of a run from zero. The same code
//! as `api/src/main.rs`.
fn main() -> std::process::ExitCode {
    portal_api::cli::process::main()
}

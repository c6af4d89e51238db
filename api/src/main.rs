//! `portal`: serve | worker | migrate | create-provider | print-schema.
fn main() -> std::process::ExitCode {
    portal_api::cli::process::main()
}

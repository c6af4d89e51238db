//! `schema.graphql` must equal what the server serves.
#[test]
fn schema_file_matches_the_served_schema() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let committed = std::fs::read_to_string(path).expect("schema.graphql at the workspace root");
    let served = portal_api::graphql::sdl();
    assert!(
        committed == served,
        "schema.graphql is out of date: run `cargo run -p portal-api --bin portal -- print-schema > schema.graphql`"
    );
}

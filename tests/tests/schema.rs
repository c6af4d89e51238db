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

#[test]
fn date_times_are_described_and_specified_by_rfc_3339() {
    let sdl = portal_api::graphql::sdl();
    let scalar =
        "scalar DateTime @specifiedBy(url: \"https://datatracker.ietf.org/doc/html/rfc3339\")";
    let at = sdl.find(scalar).expect("DateTime carries @specifiedBy");
    let description = &sdl[..at].rsplit("\"\"\"").nth(1).unwrap_or_default();
    assert!(description.contains("RFC 3339"), "{description}");
}

//! GraphiQL's files, embedded in the binary and served under a path that names
//! each file's content hash, so browsers may keep them for a year and a new build
//! is fetched anew. The vendored ones (api/assets/graphiql/, see its README) are
//! served byte for byte as npm published them.
use poem::http::StatusCode;
use poem::web::Path;
use poem::{IntoResponse, Response, handler};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// Where the assets are mounted.
const PREFIX: &str = "/graphiql/assets";

/// The route [`asset`] answers.
pub const ROUTE: &str = "/graphiql/assets/:version/:name";

/// What a file is to the page: a script it runs or a stylesheet it links.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Script,
    Style,
}

impl Kind {
    fn content_type(self) -> &'static str {
        match self {
            Kind::Script => "text/javascript; charset=utf-8",
            Kind::Style => "text/css; charset=utf-8",
        }
    }
}

/// Every file the page loads, by the name it is served under, in load order.
const FILES: [(&str, Kind, &[u8]); 6] = [
    (
        "react.production.min.js",
        Kind::Script,
        include_bytes!("../../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        Kind::Script,
        include_bytes!("../../../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "graphiql.min.js",
        Kind::Script,
        include_bytes!("../../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        Kind::Style,
        include_bytes!("../../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "portal-graphiql.js",
        Kind::Script,
        include_bytes!("boot.js"),
    ),
    (
        "portal-graphiql.css",
        Kind::Style,
        include_bytes!("boot.css"),
    ),
];

struct Asset {
    name: &'static str,
    kind: Kind,
    bytes: &'static [u8],
    /// The first 16 hex digits of the content's SHA-256: the versioned path segment.
    version: String,
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(name, kind, bytes)| Asset {
            name,
            kind,
            bytes,
            version: format!("{:x}", Sha256::digest(bytes))[..16].to_owned(),
        })
        .collect()
});

/// The versioned URL paths of the files of `kind`, in load order.
pub fn paths(kind: Kind) -> impl Iterator<Item = String> {
    ASSETS
        .iter()
        .filter(move |a| a.kind == kind)
        .map(|a| format!("{PREFIX}/{}/{}", a.version, a.name))
}

/// `GET /graphiql/assets/:version/:name`: the file, cached for a year; an unknown
/// name or a version that is not the embedded file's answers 404.
#[handler]
pub fn asset(Path((version, name)): Path<(String, String)>) -> Response {
    match ASSETS
        .iter()
        .find(|a| a.name == name && a.version == version)
    {
        Some(a) => a
            .bytes
            .with_content_type(a.kind.content_type())
            .with_header("cache-control", "public, max-age=31536000, immutable")
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::{ASSETS, FILES, Kind, paths};

    #[test]
    fn every_file_has_a_versioned_path_naming_its_content() {
        let all: Vec<String> = paths(Kind::Style).chain(paths(Kind::Script)).collect();
        assert_eq!(all.len(), FILES.len());
        for path in &all {
            let version = path.split('/').nth(3).unwrap();
            assert_eq!(version.len(), 16, "{path}");
            assert!(version.bytes().all(|b| b.is_ascii_hexdigit()), "{path}");
        }
        assert!(ASSETS.iter().all(|a| !a.bytes.is_empty()));
    }
}

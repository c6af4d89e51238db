//! Opaque pagination cursors: base64url of the sort position, never a raw offset.
use super::InvalidInput;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A position in the client list ordered by (sort key, id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCursor {
    #[serde(rename = "k")]
    pub sort_key: String,
    #[serde(rename = "i")]
    pub id: Uuid,
}

/// Longest cursor the API hands out, with room to spare: two names of 100 characters
/// of up to 4 UTF-8 bytes each make a sort key of ~800 bytes, ~860 bytes of JSON and
/// ~1150 of base64. (1024 once refused the cursors of such clients.)
const MAX_CURSOR_LEN: usize = 2048;

impl ClientCursor {
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Decodes a cursor a caller sent back; anything else is `BAD_USER_INPUT` on `after`.
    pub fn decode(text: &str) -> Result<Self, InvalidInput> {
        let bad = || InvalidInput::new("after", "This cursor is not one this API handed out.");
        if text.len() > MAX_CURSOR_LEN {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        serde_json::from_slice(&bytes).map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::ClientCursor;

    #[test]
    fn cursors_round_trip() {
        let c = ClientCursor {
            sort_key: "doe\u{1f}jane".into(),
            id: uuid::Uuid::now_v7(),
        };
        assert_eq!(ClientCursor::decode(&c.encode()).unwrap(), c);
    }

    #[test]
    fn foreign_cursors_are_refused() {
        for t in [
            "",
            "abc",
            "!!!",
            "eyJ4IjoxfQ",
            &"A".repeat(2000),
            &"A".repeat(3000),
        ] {
            assert!(ClientCursor::decode(t).is_err(), "{t}");
        }
    }
}

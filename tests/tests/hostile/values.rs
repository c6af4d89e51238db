//! Hostile values: what goes into arguments, variables and input fields.
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

/// Strings that have broken other services: encodings, injections, control characters.
pub const NASTY_STRINGS: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "a\u{0}b",
    "jane@example.com\u{0}",
    "\u{202e}moc.elpmaxe@enaj",
    "\u{200b}",
    "\u{feff}jane@example.com",
    "😀😀😀",
    "İ",
    "e\u{301}\u{301}\u{301}\u{301}\u{301}",
    "\r\n\r\n",
    "\t",
    "%00",
    "%s%s%s%n",
    "../../../../etc/passwd",
    "'; DROP TABLE client; --",
    "\" OR 1=1 --",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "${jndi:ldap://x/a}",
    "\\",
    "\\u0000",
    "null",
    "undefined",
    "NaN",
    "-0",
    "1e999",
    "0x7fffffff",
    "00000000-0000-0000-0000-000000000000",
    "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
    "0190a8f2-7c3e-7000-8000-00000000000",
    "pat_",
    "lnk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "pat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "lnk_////////////////////////////////////////////",
    "eyJrIjoiYSIsImkiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAifQ",
    "eyJrIjpudWxsfQ",
    "jane@gmial.com",
    "a@b.c",
    "@",
    "jane@@example.com",
    "jane@xn--80ak6aa92e.com",
    "jane@[127.0.0.1]",
    "\"jane\"@example.com",
];

/// Numbers that are too large, too small or not integers.
pub fn nasty_numbers() -> Vec<Value> {
    vec![
        json!(0),
        json!(-1),
        json!(i32::MAX),
        json!(i32::MIN),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1.5),
        json!(1e308),
        json!(-1e308),
        json!(f64::MIN_POSITIVE),
    ]
}

/// One random hostile JSON value; `depth` bounds nesting.
pub fn value(rng: &mut StdRng, depth: usize) -> Value {
    match rng.random_range(0..10) {
        0 => Value::Null,
        1 => json!(rng.random_bool(0.5)),
        2 => pick(rng, &nasty_numbers()),
        3..=5 => json!(string(rng)),
        6 => json!(rng.random::<i64>()),
        7 if depth > 0 => {
            let n = rng.random_range(0..4);
            Value::Array((0..n).map(|_| value(rng, depth - 1)).collect())
        }
        8 if depth > 0 => {
            let n = rng.random_range(0..4);
            let mut map = serde_json::Map::new();
            for _ in 0..n {
                map.insert(string(rng), value(rng, depth - 1));
            }
            Value::Object(map)
        }
        _ => nested(rng.random_range(1..120)),
    }
}

/// A hostile string: a nasty one, a random mix, or a long one.
pub fn string(rng: &mut StdRng) -> String {
    match rng.random_range(0..6) {
        0..=2 => NASTY_STRINGS[rng.random_range(0..NASTY_STRINGS.len())].to_owned(),
        3 => (0..rng.random_range(1..40))
            .map(|_| random_char(rng))
            .collect(),
        4 => "x".repeat(rng.random_range(100..5_000)),
        _ => "é".repeat(rng.random_range(50..1_000)),
    }
}

fn random_char(rng: &mut StdRng) -> char {
    match rng.random_range(0..4) {
        0 => rng.random_range(0u8..0x80) as char,
        1 => char::from_u32(rng.random_range(0x80..0xD800)).unwrap_or('?'),
        2 => char::from_u32(rng.random_range(0xE000..0x11_0000)).unwrap_or('?'),
        _ => ['"', '\\', '@', '.', '\u{0}', '\u{7f}', '{', '}'][rng.random_range(0..8)],
    }
}

/// Arrays nested `levels` deep (serde_json refuses more than 128).
pub fn nested(levels: usize) -> Value {
    (0..levels).fold(json!("deep"), |inner, _| json!([inner]))
}

pub fn pick<T: Clone>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())].clone()
}

/// A value as a GraphQL literal (strings escaped as JSON strings, which GraphQL reads).
pub fn literal(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(literal).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .filter(|(k, _)| is_name(k))
                .map(|(k, v)| format!("{k}: {}", literal(v)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
    }
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

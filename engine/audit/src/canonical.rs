//! Canonical JSON: the exact bytes an entry's hash is computed over.
//!
//! Why not `serde_json::to_string`: its key order follows the map's insertion order when
//! any crate in the build enables `preserve_order`, and a hash must not depend on which
//! other crates happen to be linked. The canonical form is:
//! - object keys sorted by their UTF-8 bytes, no duplicate keys (a JSON object read by
//!   serde_json keeps the last one);
//! - no whitespace anywhere outside strings;
//! - strings escaped as serde_json escapes them (`"`, `\`, control characters; everything
//!   else verbatim UTF-8);
//! - numbers as serde_json prints them (integers in decimal, floats in the shortest form
//!   that reads back to the same `f64`, which `float_roundtrip` guarantees on reading).
//!
//! The property tests below check that the form is a fixed point (canonicalising the parse
//! of canonical bytes gives the same bytes), that it does not depend on key insertion
//! order, and that it never contains whitespace outside strings.

use serde_json::Value;

/// The canonical bytes of a JSON value.
pub fn to_canonical_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out);
    out
}

/// The canonical form as a `String` (it is always valid UTF-8).
pub fn to_canonical_string(value: &Value) -> String {
    String::from_utf8(to_canonical_vec(value)).expect("canonical JSON is UTF-8")
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_value(&map[key], out);
            }
            out.push(b'}');
        }
    }
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    // serde_json's escaping of a plain &str cannot fail.
    serde_json::to_writer(&mut *out, s).expect("writing a string to a Vec cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_and_drops_whitespace() {
        let v: Value =
            serde_json::from_str(r#"{ "b": [1, 2.5, {"z": null, "a": true}], "a": "x\ny" }"#)
                .unwrap();
        assert_eq!(
            to_canonical_string(&v),
            r#"{"a":"x\ny","b":[1,2.5,{"a":true,"z":null}]}"#
        );
    }

    #[test]
    fn keys_sort_by_bytes_not_by_locale() {
        let v = json!({"é": 1, "z": 2, "Z": 3, "": 4});
        assert_eq!(to_canonical_string(&v), r#"{"":4,"Z":3,"z":2,"é":1}"#);
    }

    #[test]
    fn numbers_keep_their_kind() {
        let v = json!([0, -1, u64::MAX, i64::MIN, 0.1, 1e300, -0.0]);
        let s = to_canonical_string(&v);
        assert_eq!(
            s,
            "[0,-1,18446744073709551615,-9223372036854775808,0.1,1e+300,-0.0]"
        );
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(to_canonical_string(&back), s);
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((any::<String>(), inner), 0..8)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    /// Whether `s` has whitespace outside string literals.
    fn whitespace_outside_strings(s: &str) -> bool {
        let mut in_str = false;
        let mut escaped = false;
        for c in s.chars() {
            if in_str {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_str = false;
                }
            } else if c == '"' {
                in_str = true;
            } else if c.is_whitespace() {
                return true;
            }
        }
        false
    }

    proptest! {
        #[test]
        fn canonical_is_a_fixed_point(v in arb_json()) {
            let once = to_canonical_string(&v);
            let parsed: Value = serde_json::from_str(&once).expect("canonical JSON parses");
            prop_assert_eq!(&parsed, &v);
            prop_assert_eq!(to_canonical_string(&parsed), once);
        }

        #[test]
        fn canonical_ignores_insertion_order(kv in prop::collection::vec((any::<String>(), arb_json()), 0..10)) {
            let forward: serde_json::Map<String, Value> = kv.iter().cloned().collect();
            // Same pairs inserted in reverse: for duplicate keys the *last* insertion wins,
            // so dedupe first to compare like with like.
            let mut reverse = serde_json::Map::new();
            for (k, v) in kv.iter().rev() {
                if let Some(val) = forward.get(k) {
                    reverse.insert(k.clone(), val.clone());
                } else {
                    reverse.insert(k.clone(), v.clone());
                }
            }
            prop_assert_eq!(
                to_canonical_string(&Value::Object(forward)),
                to_canonical_string(&Value::Object(reverse))
            );
        }

        #[test]
        fn canonical_has_no_whitespace_outside_strings(v in arb_json()) {
            let s = to_canonical_string(&v);
            prop_assert!(!whitespace_outside_strings(&s), "{}", s);
        }

        #[test]
        fn canonical_matches_pretty_input(v in arb_json()) {
            // Whatever layout the input had, canonicalising its parse gives the same bytes.
            let pretty = serde_json::to_string_pretty(&v).unwrap();
            let reparsed: Value = serde_json::from_str(&pretty).unwrap();
            prop_assert_eq!(to_canonical_string(&reparsed), to_canonical_string(&v));
        }
    }
}

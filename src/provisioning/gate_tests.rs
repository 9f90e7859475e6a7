//! The spec diff as tables: what `canonical` makes equal and what it keeps
//! apart, which recorded specs `same_spec` takes for the same ask, and what
//! `effective_spec` fills in, strips or refuses (by error `field`).

use serde_json::{Value, json};

use super::gate::{canonical, effective_spec, same_spec};
use crate::catalog::Catalog;

#[test]
fn canonical_equal_and_distinct() {
    // (a, b, equal after canonical)
    let cases: Vec<(Value, Value, bool)> = vec![
        (json!(32), json!(32.0), true),
        (json!(-0.0), json!(0), true),
        (json!(1e3), json!(1000), true),
        (json!(32.5), json!(32), false),
        (json!("32"), json!(32), false),
        (json!({"b": 1, "a": 2}), json!({"a": 2, "b": 1}), true),
        (
            json!({"a": {"y": 1.0, "x": [2.0]}}),
            json!({"a": {"x": [2], "y": 1}}),
            true,
        ),
        // Arrays keep their order: a different order is a different ask.
        (json!([1, 2]), json!([2, 1]), false),
        (json!({"a": null}), json!({}), false),
        (json!(true), json!(1), false),
        (json!(""), json!(null), false),
        // Beyond 2^53 a float is not an exact integer, so it stays a float.
        (json!(1e300), json!(1e300), true),
        (
            json!(9_007_199_254_740_992.0_f64),
            json!(9_007_199_254_740_992_i64),
            true,
        ),
    ];
    for (a, b, equal) in cases {
        let (ca, cb) = (canonical(a.clone()), canonical(b.clone()));
        assert_eq!(ca == cb, equal, "{a} vs {b}: {ca} / {cb}");
        // Equal values also print the same text (what is stored and compared).
        if equal {
            assert_eq!(ca.to_string(), cb.to_string(), "{a} vs {b}");
        }
        // Idempotent.
        assert_eq!(canonical(ca.clone()), ca, "{a}");
    }
    assert!(canonical(json!(1e300)).is_f64());
    assert!(canonical(json!(2.0)).is_i64());
}

#[test]
fn same_spec_reads_recorded_text() {
    let now = canonical(json!({"label": "x", "length": 32}));
    // (recorded text, same ask as `now`)
    let cases = [
        (r#"{"label":"x","length":32}"#, true),
        (r#"{"length":32,"label":"x"}"#, true),
        (r#"{"length":32.0,"label":"x"}"#, true),
        (r#"{ "length" : 3.2e1 , "label" : "x" }"#, true),
        (r#"{"length":33,"label":"x"}"#, false),
        (r#"{"length":32}"#, false),
        (r#"{"length":32,"label":"x","extra":1}"#, false),
        (r#"{"length":"32","label":"x"}"#, false),
        ("", false),
        ("not json", false),
        ("null", false),
    ];
    for (recorded, want) in cases {
        assert_eq!(same_spec(recorded, &now), want, "{recorded}");
    }
}

#[test]
fn effective_spec_fills_strips_and_refuses() {
    let c = Catalog::load(None).unwrap();
    let token = c.get("demo-token").unwrap();
    let ecr = c.get("ecr-repository").unwrap();
    type Case<'a> = (
        &'a crate::catalog::Manifest,
        Option<Value>,
        &'a str,
        Result<Value, &'a str>,
    );
    let cases: Vec<Case> = vec![
        // Defaults are filled, whatever the caller sent for "no spec".
        (token, None, "t", Ok(json!({"label": "", "length": 32}))),
        (
            token,
            Some(Value::Null),
            "t",
            Ok(json!({"label": "", "length": 32})),
        ),
        (
            token,
            Some(json!({})),
            "t",
            Ok(json!({"label": "", "length": 32})),
        ),
        // Numbers come out canonical, keys sorted.
        (
            token,
            Some(json!({"length": 64.0, "label": "a"})),
            "t",
            Ok(json!({"label": "a", "length": 64})),
        ),
        // A spec.name equal to the resource name is accepted and removed
        // (Asgard sets it), a different one is refused.
        (
            token,
            Some(json!({"name": "t"})),
            "t",
            Ok(json!({"label": "", "length": 32})),
        ),
        (token, Some(json!({"name": "u"})), "t", Err("spec.name")),
        (token, Some(json!({"name": 1})), "t", Err("spec.name")),
        // (A spec that is not an object never gets here: the ask's type
        // refuses it at the door, on the field `spec`.)
        // The service's schema: unknown inputs, ranges.
        (
            token,
            Some(json!({"colour": "red"})),
            "t",
            Err("spec.colour"),
        ),
        (token, Some(json!({"length": 8})), "t", Err("spec.length")),
        (
            token,
            Some(json!({"length": 16.5})),
            "t",
            Err("spec.length"),
        ),
        (
            ecr,
            Some(json!({"name": "asgard"})),
            "asgard",
            Ok(json!(null)),
        ),
    ];
    for (m, spec, name, want) in cases {
        let got = effective_spec(m, spec.as_ref().and_then(Value::as_object), name);
        match (got, want) {
            (Ok(_), Ok(Value::Null)) => {}
            (Ok(g), Ok(w)) => {
                assert_eq!(g, w, "{} {spec:?}", m.id);
                assert_eq!(g.to_string(), w.to_string(), "{} {spec:?}", m.id);
            }
            (Err(e), Err(field)) => {
                assert_eq!(e.code(), "invalid_request", "{} {spec:?}", m.id);
                assert_eq!(e.field(), Some(field), "{} {spec:?}", m.id);
            }
            (g, w) => panic!("{} {spec:?}: got {g:?}, want {w:?}", m.id),
        }
    }
    // A locked input is refused by its own field, for every service that locks any.
    for m in c.all() {
        for k in &m.locked {
            let e = effective_spec(m, json!({k.as_str(): true}).as_object(), "x").unwrap_err();
            assert_eq!(e.field(), Some(format!("spec.{k}").as_str()), "{}", m.id);
        }
    }
    // Two spellings of one ask give one effective spec, so a re-ask matches.
    let a = effective_spec(token, json!({"length": 32, "label": "x"}).as_object(), "t").unwrap();
    let b = effective_spec(
        token,
        json!({"label": "x", "length": 32.0}).as_object(),
        "t",
    )
    .unwrap();
    assert!(same_spec(&a.to_string(), &b));
}

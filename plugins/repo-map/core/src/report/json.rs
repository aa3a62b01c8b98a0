//! The JSON map, for agents and scripts.

use serde_json::{Value, json};

use crate::map::RepoMap;

pub fn render(map: &RepoMap) -> String {
    let value = to_value(map);
    // Serialising a `Value` cannot fail; fall back to compact output anyway
    // rather than panic.
    serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
}

fn to_value(map: &RepoMap) -> Value {
    let languages: Vec<Value> = map
        .languages()
        .iter()
        .map(|r| {
            json!({
                "language": r.language.name(),
                "files": r.files,
                "lines": r.lines,
                "bytes": r.bytes,
            })
        })
        .collect();
    let files: Vec<Value> = map
        .files
        .iter()
        .map(|f| {
            let symbols: Vec<Value> = f
                .symbols
                .iter()
                .map(
                    |s| json!({ "kind": s.kind, "name": s.name, "line": s.line, "depth": s.depth }),
                )
                .collect();
            let mut file = json!({
                "path": f.path,
                "language": f.language.name(),
                "bytes": f.bytes,
                "lines": f.lines,
                "symbols": symbols,
            });
            if f.symbols_omitted > 0 {
                file["symbols_omitted"] = json!(f.symbols_omitted);
            }
            if let Some(note) = &f.note {
                file["note"] = json!(note);
            }
            file
        })
        .collect();
    let withheld: Vec<Value> = map
        .withheld
        .iter()
        .map(|w| json!({ "path": w.path, "rule": w.rule }))
        .collect();
    json!({
        "languages": languages,
        "files": files,
        "withheld": withheld,
        "incomplete": map.incomplete,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn has_the_documented_shape() {
        let v: Value = serde_json::from_str(&render(&sample::map())).expect("valid JSON");
        assert_eq!(
            v["languages"][0],
            json!({"language": "Rust", "files": 1, "lines": 5, "bytes": 61})
        );
        let main = &v["files"][1];
        assert_eq!(main["path"], "src/main.rs");
        assert_eq!(main["language"], "Rust");
        assert_eq!(main["lines"], 5);
        assert_eq!(
            main["symbols"][0],
            json!({"kind": "fn", "name": "parse_args", "line": 1, "depth": 0})
        );
        assert_eq!(main["symbols_omitted"], 2);
        assert_eq!(v["files"][2]["lines"], Value::Null);
        assert_eq!(v["withheld"][0], json!({"path": ".env", "rule": ".env"}));
    }
}

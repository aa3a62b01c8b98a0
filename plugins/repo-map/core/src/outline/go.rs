//! Go: functions, methods (named `Type.Method`) and types, including those
//! in a grouped `type ( … )` block.

use std::sync::LazyLock;

use regex::Regex;

use super::{Raw, numbered};

static FUNC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^func\s+(?:\((?P<recv>[^)]*)\)\s*)?(?P<name>\w+)")
        .expect("built-in Go func pattern compiles")
});

static TYPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^type\s+(?P<name>\w+)\b").expect("built-in Go type pattern compiles")
});

/// A type inside `type ( … )`: one level of indentation, a name, a type.
static GROUPED_TYPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\t| {4})(?P<name>[A-Za-z_]\w*)\s+\S")
        .expect("built-in Go grouped type pattern compiles")
});

pub(super) fn raw(text: &str) -> Vec<Raw> {
    let mut out = Vec::new();
    let mut in_type_group = false;
    for (line_no, line) in numbered(text) {
        if in_type_group {
            if line.trim_start().starts_with(')') {
                in_type_group = false;
            } else if let Some(caps) = GROUPED_TYPE.captures(line) {
                out.push(symbol("type", &caps["name"], line_no));
            }
            continue;
        }
        if line.starts_with("type (") || line.trim_end() == "type (" {
            in_type_group = true;
        } else if let Some(caps) = FUNC.captures(line) {
            match caps.name("recv").map(|r| receiver_type(r.as_str())) {
                Some(recv) => {
                    out.push(symbol(
                        "method",
                        &format!("{recv}.{}", &caps["name"]),
                        line_no,
                    ));
                }
                None => out.push(symbol("func", &caps["name"], line_no)),
            }
        } else if let Some(caps) = TYPE.captures(line) {
            out.push(symbol("type", &caps["name"], line_no));
        }
    }
    out
}

fn symbol(kind: &'static str, name: &str, line: u32) -> Raw {
    Raw {
        indent: 0,
        kind,
        name: name.to_string(),
        line,
        container: false,
    }
}

/// `s *Server` → `Server`; `l List[T]` → `List`.
fn receiver_type(receiver: &str) -> String {
    let ty = receiver.split_whitespace().last().unwrap_or(receiver);
    let ty = ty.trim_start_matches('*');
    ty.split('[').next().unwrap_or(ty).to_string()
}

//! A skill built against `airlock:skill@0.2.0`, which this host does not
//! speak. The host must refuse it at load, naming both versions.

// The generated export glue is `unsafe` by nature; this guest has no other.
#![allow(unsafe_code)]

wit_bindgen::generate!({ world: "skill", path: "wit" });

struct Future;

impl Guest for Future {
    fn run(input: String) -> String {
        airlock::skill::log::log(&input);
        input
    }
}

export!(Future);

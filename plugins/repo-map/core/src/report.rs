//! The two renderings of a [`RepoMap`].

mod json;
mod text;

use crate::map::RepoMap;
use crate::options::Format;

/// Renders the map in the requested format.
pub fn render(format: Format, map: &RepoMap) -> String {
    match format {
        Format::Text => text::render(map),
        Format::Json => json::render(map),
    }
}

#[cfg(test)]
pub(crate) mod sample {
    //! A small map shared by the renderers' tests.

    use crate::map::{Extract, FileInfo, RepoMap, Withheld, analyze};

    pub fn map() -> RepoMap {
        let all = Extract {
            symbols: true,
            max_symbols: 2,
        };
        RepoMap {
            files: vec![
                analyze("README.md", b"# Demo\n", all),
                analyze(
                    "src/main.rs",
                    b"fn parse_args() {}\nimpl App {\n    fn run() {}\n}\nfn main() {}\n",
                    all,
                ),
                FileInfo::unread("logo.png", 2048, "binary"),
            ],
            withheld: vec![Withheld {
                path: ".env".into(),
                rule: ".env".into(),
            }],
            incomplete: None,
        }
    }
}

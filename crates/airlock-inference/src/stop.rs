//! Stop sequences, applied by the host to every engine's output so that they
//! behave the same everywhere: text is released only once it cannot be the
//! start of a stop sequence, and nothing from the stop sequence on is returned.

/// Scans streamed text for stop sequences.
#[derive(Debug, Default)]
pub struct StopScanner {
    stops: Vec<String>,
    held: String,
    stopped: bool,
}

impl StopScanner {
    /// A scanner for `stops` (empty strings are ignored).
    pub fn new(stops: &[String]) -> Self {
        Self {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
            held: String::new(),
            stopped: false,
        }
    }

    /// Feed more text; returns what can be released now. After a stop
    /// sequence is seen, [`Self::stopped`] is true and nothing more is released.
    pub fn push(&mut self, text: &str) -> String {
        if self.stopped {
            return String::new();
        }
        if self.stops.is_empty() {
            return text.to_string();
        }
        self.held.push_str(text);
        if let Some(at) = self
            .stops
            .iter()
            .filter_map(|s| self.held.find(s.as_str()))
            .min()
        {
            self.stopped = true;
            let out = self.held[..at].to_string();
            self.held.clear();
            return out;
        }
        // Keep back the longest tail that is a prefix of some stop sequence.
        let keep = self
            .stops
            .iter()
            .map(|s| longest_suffix_prefix(&self.held, s))
            .max()
            .unwrap_or(0);
        let cut = self.held.len() - keep;
        let out = self.held[..cut].to_string();
        self.held.drain(..cut);
        out
    }

    /// Whether a stop sequence was seen.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// The end of the stream: release what was held back.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
}

/// The length of the longest suffix of `text` that is a proper prefix of
/// `stop`, at a character boundary of `text`.
fn longest_suffix_prefix(text: &str, stop: &str) -> usize {
    let max = text.len().min(stop.len().saturating_sub(1));
    (1..=max)
        .rev()
        .find(|&n| {
            let start = text.len() - n;
            text.is_char_boundary(start) && stop.as_bytes().starts_with(&text.as_bytes()[start..])
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], pieces: &[&str]) -> (String, bool) {
        let stops: Vec<String> = stops.iter().map(|s| s.to_string()).collect();
        let mut s = StopScanner::new(&stops);
        let mut out = String::new();
        for p in pieces {
            out.push_str(&s.push(p));
        }
        if !s.stopped() {
            out.push_str(&s.finish());
        }
        (out, s.stopped())
    }

    #[test]
    fn stop_split_across_pieces_is_cut_with_everything_after() {
        assert_eq!(
            run(&["END"], &["hello E", "N", "D and more"]),
            ("hello ".into(), true)
        );
    }

    #[test]
    fn a_near_miss_is_released_in_full() {
        assert_eq!(
            run(&["END"], &["hello EN", "o"]),
            ("hello ENo".into(), false)
        );
        assert_eq!(run(&["END"], &["tail EN"]), ("tail EN".into(), false));
    }

    #[test]
    fn earliest_of_several_stops_wins() {
        assert_eq!(run(&["b", "a"], &["xxab"]), ("xx".into(), true));
    }

    #[test]
    fn no_stops_passes_text_through_unchanged() {
        assert_eq!(run(&[], &["é", "ß"]), ("éß".into(), false));
    }

    #[test]
    fn multibyte_text_is_never_split_inside_a_character() {
        assert_eq!(run(&["é!"], &["caf", "é", "!"]), ("caf".into(), true));
        assert_eq!(run(&["\u{e9}x"], &["é"]), ("é".into(), false));
    }
}

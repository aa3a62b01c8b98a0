//! Version numbers of the form MAJOR.MINOR.PATCH.
use std::fmt;

/// A parsed version; versions compare by major, then minor, then patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

/// Why a text is not a version.
#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The text had this many dot-separated parts.
    WrongPartCount(usize),
    /// This part is not a non-negative number.
    NotANumber(String),
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Parses a version such as "1.4.2" (surrounding whitespace is ignored).
pub fn parse(text: &str) -> Result<Version, ParseError> {
    let parts: Vec<&str> = text.trim().split('.').collect();
    if parts.len() != 3 {
        return Err(ParseError::WrongPartCount(parts.len()));
    }
    let mut numbers = [0u32; 3];
    for (slot, part) in numbers.iter_mut().zip(&parts) {
        *slot = part
            .parse()
            .map_err(|_| ParseError::NotANumber(part.to_string()))?;
    }
    Ok(Version {
        major: numbers[0],
        minor: numbers[1],
        patch: numbers[2],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_three_parts() {
        let v = parse("1.4.2").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (1, 4, 2));
        assert_eq!(v.to_string(), "1.4.2");
    }

    #[test]
    fn rejects_words() {
        assert_eq!(parse("1.x.0"), Err(ParseError::NotANumber("x".into())));
    }

    #[test]
    fn orders_versions() {
        assert!(parse("1.10.0").unwrap() > parse("1.9.9").unwrap());
    }
}

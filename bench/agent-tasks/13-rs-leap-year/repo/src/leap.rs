//! Leap years.

/// Gregorian leap years: every fourth year, except century years, which
/// are leap years only when divisible by 400 (2000 was one, 1900 was not).
pub fn is_leap_year(year: i32) -> bool {
    if year % 400 == 0 {
        true
    } else if year % 100 == 0 {
        true
    } else {
        year % 4 == 0
    }
}

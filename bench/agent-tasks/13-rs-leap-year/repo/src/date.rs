//! Months and days.

use crate::leap::is_leap_year;

const DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// Days in `month` (1 = January) of `year`. Panics if month is not 1..=12.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    assert!((1..=12).contains(&month), "month {month} is not 1..=12");
    if month == 2 && is_leap_year(year) {
        29
    } else {
        DAYS[month as usize - 1]
    }
}

/// Day of the year, 1 for January 1st.
pub fn day_of_year(year: i32, month: u32, day: u32) -> u32 {
    (1..month).map(|m| days_in_month(year, m)).sum::<u32>() + day
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn february() {
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2023, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
    }

    #[test]
    fn day_numbers() {
        assert_eq!(day_of_year(2023, 3, 1), 60);
        assert_eq!(day_of_year(2024, 12, 31), 366);
    }
}

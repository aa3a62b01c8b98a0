//! Calendar arithmetic for the Gregorian calendar.

pub mod date;
pub mod leap;

pub use date::{days_in_month, day_of_year};
pub use leap::is_leap_year;

//! The time the product records: UTC to the millisecond, the precision its records are written
//! with, so a record read back equals the one written.

use chrono::{DateTime, SubsecRound, Utc};

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

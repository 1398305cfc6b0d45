//! Working hours in the business's zone. Intervals are local wall time, so a day that gains or
//! loses an hour to DST still opens at 09:00 local; instants are found by converting each local
//! boundary to UTC on its own date.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::model::{WeekHours, WorkInterval};

/// How far either way a search looks: a week with no hours at all has no answer.
const SEARCH_DAYS: i64 = 8;

/// The UTC instant of a local wall time. In a DST gap (02:30 on a spring-forward night) that
/// time does not exist: the first minute after the gap is taken. When the time happens twice
/// (autumn), the first is taken.
pub fn local_instant(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut t = local;
    for _ in 0..=180 {
        match tz.from_local_datetime(&t) {
            LocalResult::Single(x) => return x.with_timezone(&Utc),
            LocalResult::Ambiguous(a, _) => return a.with_timezone(&Utc),
            LocalResult::None => t += Duration::minutes(1),
        }
    }
    // No zone has a gap of three hours; fall back to reading the wall time as UTC.
    Utc.from_utc_datetime(&local)
}

fn at_minute(date: NaiveDate, minute: u16) -> NaiveDateTime {
    date.and_hms_opt(0, 0, 0).expect("midnight exists") + Duration::minutes(i64::from(minute))
}

/// The day's intervals as UTC instants `[start, end)`.
fn intervals(hours: &WeekHours, tz: Tz, date: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let day: &[WorkInterval] = &hours[date.weekday().num_days_from_monday() as usize];
    day.iter()
        .map(|iv| {
            (
                local_instant(tz, at_minute(date, iv.start_min)),
                local_instant(tz, at_minute(date, iv.end_min)),
            )
        })
        .filter(|(s, e)| s < e)
        .collect()
}

/// Whether `t` falls inside working hours.
pub fn is_open(hours: &WeekHours, tz: Tz, t: DateTime<Utc>) -> bool {
    let date = t.with_timezone(&tz).date_naive();
    intervals(hours, tz, date)
        .into_iter()
        .any(|(s, e)| s <= t && t < e)
}

/// The first instant at or after `t` inside working hours. `None`: no hours in the week.
pub fn next_opening(hours: &WeekHours, tz: Tz, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let first = t.with_timezone(&tz).date_naive();
    (0..SEARCH_DAYS)
        .filter_map(|d| first.checked_add_signed(Duration::days(d)))
        .flat_map(|date| intervals(hours, tz, date))
        .find(|(_, e)| t < *e)
        .map(|(s, _)| s.max(t))
}

/// The last working minute at or before `t`: a reminder moved here still precedes the moment
/// it was due at. `None`: no hours in the week before `t`.
pub fn last_working_moment(hours: &WeekHours, tz: Tz, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let first = t.with_timezone(&tz).date_naive();
    (0..SEARCH_DAYS)
        .filter_map(|d| first.checked_sub_signed(Duration::days(d)))
        .flat_map(|date| intervals(hours, tz, date).into_iter().rev())
        .find(|(s, _)| *s <= t)
        .map(|(_, e)| t.min(e - Duration::minutes(1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_day_hours;

    fn week(days: [&str; 7]) -> WeekHours {
        days.map(|d| parse_day_hours(d).unwrap())
    }

    fn kyiv() -> Tz {
        "Europe/Kyiv".parse().unwrap()
    }

    fn local(tz: Tz, s: &str) -> DateTime<Utc> {
        local_instant(
            tz,
            NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap(),
        )
    }

    fn show(tz: Tz, t: DateTime<Utc>) -> String {
        t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
    }

    #[test]
    fn a_message_due_at_night_waits_for_the_morning_and_skips_the_day_off() {
        let tz = kyiv();
        let h = week([
            "09:00-13:00,14:00-19:00",
            "09:00-19:00",
            "09:00-19:00",
            "09:00-19:00",
            "09:00-19:00",
            "10:00-15:00",
            "closed",
        ]);
        // Monday 2026-11-23.
        let open = |s| show(tz, next_opening(&h, tz, local(tz, s)).unwrap());
        assert_eq!(open("2026-11-23 07:10"), "2026-11-23 09:00 EET");
        assert_eq!(open("2026-11-23 10:30"), "2026-11-23 10:30 EET");
        assert_eq!(open("2026-11-23 13:20"), "2026-11-23 14:00 EET");
        assert_eq!(open("2026-11-23 19:00"), "2026-11-24 09:00 EET");
        // Saturday evening: Sunday is closed, Monday opens.
        assert_eq!(open("2026-11-28 16:00"), "2026-11-30 09:00 EET");
        assert!(is_open(&h, tz, local(tz, "2026-11-23 12:59")));
        assert!(!is_open(&h, tz, local(tz, "2026-11-23 13:00")));
    }

    #[test]
    fn a_reminder_moves_back_to_the_last_working_minute() {
        let tz = kyiv();
        let h = week(["09:00-19:00"; 7]);
        let back = |s| show(tz, last_working_moment(&h, tz, local(tz, s)).unwrap());
        // Due at 07:30 (24 h before a 07:30 visit): the evening before.
        assert_eq!(back("2026-11-24 07:30"), "2026-11-23 18:59 EET");
        assert_eq!(back("2026-11-24 12:00"), "2026-11-24 12:00 EET");
        assert_eq!(back("2026-11-24 19:00"), "2026-11-24 18:59 EET");
    }

    #[test]
    fn hours_follow_local_time_across_daylight_saving_changes() {
        let tz = kyiv();
        let h = week(["09:00-19:00"; 7]);
        // Kyiv goes from EET to EEST on 2027-03-28 at 03:00 local.
        let before = next_opening(&h, tz, local(tz, "2027-03-27 20:00")).unwrap();
        assert_eq!(show(tz, before), "2027-03-28 09:00 EEST");
        assert_eq!(before.format("%H:%M").to_string(), "06:00"); // UTC
        let winter = next_opening(&h, tz, local(tz, "2026-11-22 20:00")).unwrap();
        assert_eq!(winter.format("%H:%M").to_string(), "07:00");
        // And back on 2027-10-31.
        let autumn = next_opening(&h, tz, local(tz, "2027-10-30 20:00")).unwrap();
        assert_eq!(show(tz, autumn), "2027-10-31 09:00 EET");
    }

    #[test]
    fn a_boundary_inside_the_spring_gap_is_the_first_minute_after_it() {
        let tz: Tz = "Europe/Warsaw".parse().unwrap();
        // 02:30 does not exist on 2027-03-28 in Warsaw.
        let h = week(["02:30-05:00"; 7]);
        let t = next_opening(&h, tz, local(tz, "2027-03-28 00:10")).unwrap();
        assert_eq!(show(tz, t), "2027-03-28 03:00 CEST");
    }

    #[test]
    fn a_week_without_hours_has_no_opening() {
        let tz = kyiv();
        let h = week(["closed"; 7]);
        assert_eq!(next_opening(&h, tz, Utc::now()), None);
        assert_eq!(last_working_moment(&h, tz, Utc::now()), None);
    }
}

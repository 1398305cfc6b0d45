//! What a client's short reply does to their visits: "yes" confirms the next visit still
//! waiting for an answer, "no" cancels the next one. A pure function over the client's
//! document, so the server applies the same decision whichever provider the reply came from.

use chrono::{DateTime, Duration, Utc};

use crate::crdt::client::ClientRecord;
use crate::messaging::reply::ReplyIntent;
use crate::model::{Visit, VisitStatus};

/// A reply answers a visit starting within this long; a "yes" about a visit a month away is
/// more likely about something else, and is left for the master to read.
pub const ANSWER_WINDOW: Duration = Duration::days(7);

/// The visit a reply answers, and its new status; `None` when it answers none (the reply stays
/// in the history for the master). Confirm: the next `booked` visit that has not started.
/// Cancel: the next `booked` or `confirmed` one. Deleted visits never count.
pub fn answered_visit(
    rec: &ClientRecord,
    intent: ReplyIntent,
    now: DateTime<Utc>,
) -> Option<(&Visit, VisitStatus)> {
    let (wanted, to): (&[VisitStatus], VisitStatus) = match intent {
        ReplyIntent::Confirm => (&[VisitStatus::Booked], VisitStatus::Confirmed),
        ReplyIntent::Cancel => (
            &[VisitStatus::Booked, VisitStatus::Confirmed],
            VisitStatus::Cancelled,
        ),
        ReplyIntent::Stop => return None,
    };
    rec.visits
        .iter()
        .filter(|v| !v.deleted && v.start > now && v.start <= now + ANSWER_WINDOW)
        .filter(|v| wanted.contains(&v.status))
        .min_by_key(|v| v.start)
        .map(|v| (v, to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::plan::tests::{at, client, visit};

    #[test]
    fn yes_confirms_the_next_visit_waiting_and_no_cancels_the_next_one() {
        let now = at(0, 12, 0);
        let past = visit(at(-1, 10, 0), VisitStatus::Booked);
        let tomorrow = visit(at(1, 10, 0), VisitStatus::Confirmed);
        let friday = visit(at(2, 15, 0), VisitStatus::Booked);
        let mut deleted = visit(at(0, 18, 0), VisitStatus::Booked);
        deleted.deleted = true;
        let far = visit(at(30, 10, 0), VisitStatus::Booked);
        let c = client(None, vec![past, tomorrow, friday, deleted, far]);
        let (tomorrow, friday) = (c.visits[1].id, c.visits[2].id);

        // Tomorrow's is already confirmed: "yes" is about Friday's.
        let (v, to) = answered_visit(&c, ReplyIntent::Confirm, now).unwrap();
        assert_eq!((v.id, to), (friday, VisitStatus::Confirmed));
        // "No" cancels the next one, confirmed or not.
        let (v, to) = answered_visit(&c, ReplyIntent::Cancel, now).unwrap();
        assert_eq!((v.id, to), (tomorrow, VisitStatus::Cancelled));
        assert!(answered_visit(&c, ReplyIntent::Stop, now).is_none());
    }

    #[test]
    fn a_reply_answers_nothing_without_a_visit_ahead_within_the_window() {
        let now = at(0, 12, 0);
        let c = client(
            None,
            vec![
                visit(at(-1, 10, 0), VisitStatus::Booked),
                visit(at(0, 11, 0), VisitStatus::Booked), // began an hour ago
                visit(at(8, 10, 0), VisitStatus::Booked),
                visit(at(1, 10, 0), VisitStatus::Cancelled),
                visit(at(1, 12, 0), VisitStatus::Completed),
            ],
        );
        assert!(answered_visit(&c, ReplyIntent::Confirm, now).is_none());
        assert!(answered_visit(&c, ReplyIntent::Cancel, now).is_none());
    }
}

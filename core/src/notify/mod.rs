//! What the server's scheduler needs from the core, as pure functions over documents: what a
//! rule's trigger means, when a business is open, and which messages a client's document calls
//! for. The server stores and sends; the decisions live here so they are tested once and the
//! same on every backend.
//!
//! - [`hours`]: working hours in the business's zone, DST-correct;
//! - [`plan`]: the messages one client's document calls for under the business's rules.

pub mod answer;
pub mod hours;
pub mod plan;

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::model::{NotificationKind, VisitStatus};

/// What makes a rule fire. Stored in the business document as its string form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// A visit was booked. Offset: a delay after the server learns of it.
    VisitCreated,
    /// A visit's status changed, to anything.
    StatusChanged,
    /// A visit's status changed to this one.
    StatusChangedTo(VisitStatus),
    /// A visit was moved to another time.
    Rescheduled,
    /// A visit was cancelled.
    VisitCancelled,
    /// Offset: minutes before the visit (a per-visit override wins). One per client per day.
    ReminderBefore,
    /// Offset: minutes after a completed visit ends (a review request).
    AfterCompleted,
    /// Offset: minutes after a completed visit (the visit's own `repeat_after_days` wins), unless
    /// the client has booked again.
    RepeatVisit,
    /// Offset: minutes after local midnight on the client's birthday.
    Birthday,
    /// A client wrote (staff rules only).
    ClientReplied,
    /// A message to a client failed (staff rules only).
    MessageFailed,
}

impl Trigger {
    /// The type of notification, which a client can opt out of; `None` for what only staff
    /// are told.
    pub fn kind(&self) -> Option<NotificationKind> {
        Some(match self {
            Trigger::VisitCreated => NotificationKind::VisitCreated,
            Trigger::StatusChanged | Trigger::StatusChangedTo(_) | Trigger::Rescheduled => {
                NotificationKind::VisitChanged
            }
            Trigger::VisitCancelled => NotificationKind::VisitCancelled,
            Trigger::ReminderBefore => NotificationKind::Reminder,
            Trigger::AfterCompleted => NotificationKind::ReviewRequest,
            Trigger::RepeatVisit => NotificationKind::RepeatVisit,
            Trigger::Birthday => NotificationKind::Birthday,
            Trigger::ClientReplied | Trigger::MessageFailed => return None,
        })
    }

    /// Only a rule that alerts staff can have this trigger.
    pub fn staff_only(&self) -> bool {
        matches!(self, Trigger::ClientReplied | Trigger::MessageFailed)
    }

    /// Fired by a change the server sees happen, rather than derived from the document's state.
    pub fn is_event(&self) -> bool {
        matches!(
            self,
            Trigger::VisitCreated
                | Trigger::StatusChanged
                | Trigger::StatusChangedTo(_)
                | Trigger::Rescheduled
                | Trigger::VisitCancelled
                | Trigger::ClientReplied
                | Trigger::MessageFailed
        )
    }

    /// Statuses a rule applies to when it lists none.
    pub fn default_statuses(&self) -> &'static [VisitStatus] {
        match self {
            Trigger::ReminderBefore | Trigger::VisitCreated | Trigger::Rescheduled => {
                &[VisitStatus::Booked, VisitStatus::Confirmed]
            }
            Trigger::AfterCompleted | Trigger::RepeatVisit => &[VisitStatus::Completed],
            _ => &[],
        }
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::VisitCreated => f.write_str("visit_created"),
            Trigger::StatusChanged => f.write_str("status_changed"),
            Trigger::StatusChangedTo(s) => write!(f, "status_changed:{s}"),
            Trigger::Rescheduled => f.write_str("rescheduled"),
            Trigger::VisitCancelled => f.write_str("visit_cancelled"),
            Trigger::ReminderBefore => f.write_str("reminder_before"),
            Trigger::AfterCompleted => f.write_str("after_completed"),
            Trigger::RepeatVisit => f.write_str("repeat_visit"),
            Trigger::Birthday => f.write_str("birthday"),
            Trigger::ClientReplied => f.write_str("client_replied"),
            Trigger::MessageFailed => f.write_str("message_failed"),
        }
    }
}

impl FromStr for Trigger {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        if let Some(status) = s.strip_prefix("status_changed:") {
            return Ok(Trigger::StatusChangedTo(status.parse()?));
        }
        Ok(match s.as_str() {
            "visit_created" => Trigger::VisitCreated,
            "status_changed" => Trigger::StatusChanged,
            "rescheduled" => Trigger::Rescheduled,
            "visit_cancelled" => Trigger::VisitCancelled,
            "reminder_before" => Trigger::ReminderBefore,
            "after_completed" => Trigger::AfterCompleted,
            "repeat_visit" => Trigger::RepeatVisit,
            "birthday" => Trigger::Birthday,
            "client_replied" => Trigger::ClientReplied,
            "message_failed" => Trigger::MessageFailed,
            _ => {
                return Err(Error::validation(
                    "trigger",
                    "expected visit_created, status_changed, status_changed:<status>, \
                     rescheduled, visit_cancelled, reminder_before, after_completed, \
                     repeat_visit, birthday, client_replied or message_failed",
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_round_trip_through_their_string_form() {
        let all = [
            Trigger::VisitCreated,
            Trigger::StatusChanged,
            Trigger::StatusChangedTo(VisitStatus::Confirmed),
            Trigger::Rescheduled,
            Trigger::VisitCancelled,
            Trigger::ReminderBefore,
            Trigger::AfterCompleted,
            Trigger::RepeatVisit,
            Trigger::Birthday,
            Trigger::ClientReplied,
            Trigger::MessageFailed,
        ];
        for t in all {
            assert_eq!(t.to_string().parse::<Trigger>().unwrap(), t);
        }
        assert!("status_changed:lost".parse::<Trigger>().is_err());
        assert!("whenever".parse::<Trigger>().is_err());
    }
}

//! Changing a booked visit at the FFI edge: reschedule, services and prices, payment, the
//! per-visit reminder. Status changes have their own call (`set_visit_status`).

use kartka_core::model::VisitPatch;

use crate::{ApiError, ClientBook, ServiceRec, VisitRec, id, instant};

/// Changes to a visit; `None` leaves a field as it is.
#[derive(Default, uniffi::Record)]
pub struct VisitPatchRec {
    /// RFC 3339: a new start reschedules the visit (the server re-plans its reminders).
    #[uniffi(default)]
    pub start: Option<String>,
    #[uniffi(default)]
    pub duration_min: Option<u32>,
    #[uniffi(default)]
    pub services: Option<Vec<ServiceRec>>,
    /// Minor units.
    #[uniffi(default)]
    pub total: Option<i64>,
    /// Minor units.
    #[uniffi(default)]
    pub paid: Option<i64>,
    /// `default`, `off`, or minutes before the visit.
    #[uniffi(default)]
    pub reminder: Option<String>,
    /// An empty string clears the note.
    #[uniffi(default)]
    pub note: Option<String>,
}

#[uniffi::export]
impl ClientBook {
    pub fn update_visit(
        &self,
        visit_id: String,
        patch: VisitPatchRec,
    ) -> Result<VisitRec, ApiError> {
        let core = VisitPatch {
            start: patch.start.as_deref().map(instant).transpose()?,
            duration_min: patch.duration_min,
            services: patch
                .services
                .map(|s| s.into_iter().map(Into::into).collect()),
            total: patch.total,
            paid: patch.paid,
            reminder: patch.reminder.map(|r| r.parse()).transpose()?,
            note: patch.note.map(|n| {
                let t = n.trim();
                (!t.is_empty()).then(|| t.to_string())
            }),
            ..Default::default()
        };
        let visit = self.store()?.update_visit(id(&visit_id)?, core)?;
        self.notify(vec![visit.client_id]);
        Ok(visit.into())
    }
}

package app.kartka.app

import app.kartka.core.ClientBook
import app.kartka.core.NewVisitRec
import app.kartka.core.ServiceRec
import app.kartka.core.VisitPatchRec
import app.kartka.core.VisitRec
import java.time.OffsetDateTime
import java.time.LocalDate
import java.time.LocalDateTime
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import java.time.temporal.TemporalAdjusters
import kotlinx.coroutines.CoroutineDispatcher

/** One visit in the agenda, with its times in the business's zone. */
data class AgendaRow(
    val visit: VisitRec,
    val clientName: String,
    val day: LocalDate,
    /** "10:00–11:30". */
    val time: String,
    val services: String,
    val total: String,
    /** Null when the visit is paid in full. */
    val due: String?,
)

data class AgendaState(
    val mode: Mode = Mode.DAY,
    val first: LocalDate? = null,
    /** Days in order, each with its visits in time order; a day with none is kept (empty). */
    val days: List<Pair<LocalDate, List<AgendaRow>>> = emptyList(),
    val error: String? = null,
) {
    enum class Mode { DAY, WEEK }
}

/**
 * The day and week agenda, and what is done to a visit from it. Days are the business's days
 * (its IANA zone), whatever zone the phone is in, so a master travelling sees the salon's
 * hours; instants cross to the core as UTC.
 */
class AgendaViewModel(
    private val book: ClientBook,
    io: CoroutineDispatcher,
) : Screen<AgendaState>(AgendaState(), io) {
    private val zone: ZoneId by lazy { ZoneId.of(book.business().zone) }
    private val hm = DateTimeFormatter.ofPattern("HH:mm")

    suspend fun showDay(day: LocalDate) = show(AgendaState.Mode.DAY, day)

    /** The week (Monday first) that holds [day]. */
    suspend fun showWeek(day: LocalDate) =
        show(AgendaState.Mode.WEEK, day.with(TemporalAdjusters.previousOrSame(java.time.DayOfWeek.MONDAY)))

    suspend fun refresh() {
        val s = state.value
        show(s.mode, s.first ?: return)
    }

    private suspend fun show(mode: AgendaState.Mode, first: LocalDate) {
        val count = if (mode == AgendaState.Mode.DAY) 1L else 7L
        val days = call({ s, m -> s.copy(error = m) }) {
            val from = first.atStartOfDay(zone).toInstant()
            val to = first.plusDays(count).atStartOfDay(zone).toInstant()
            val names = HashMap<String, String>()
            val rows = book.agenda(from.toString(), to.toString()).map { v ->
                val name = names.getOrPut(v.clientId) { book.getClient(v.clientId).name }
                row(v, name)
            }
            (0 until count).map { i ->
                val d = first.plusDays(i)
                d to rows.filter { it.day == d }
            }
        } ?: return
        update { AgendaState(mode, first, days) }
    }

    private fun row(v: VisitRec, clientName: String): AgendaRow {
        val start = OffsetDateTime.parse(v.start).atZoneSameInstant(zone)
        val end = start.plusMinutes(v.durationMin.toLong())
        return AgendaRow(
            visit = v,
            clientName = clientName,
            day = start.toLocalDate(),
            time = "${start.format(hm)}–${end.format(hm)}",
            services = v.services.joinToString(", ") { if (it.quantity > 1u) "${it.name} ×${it.quantity}" else it.name },
            total = book.formatMoney(v.total),
            due = if (v.paid < v.total) book.formatMoney(v.total - v.paid) else null,
        )
    }

    /** Books a visit at a local time of the business's day. */
    suspend fun create(
        clientId: String,
        local: LocalDateTime,
        durationMin: Int,
        services: List<ServiceRec>,
        paid: Long = 0,
        reminder: String = "default",
        note: String? = null,
    ): VisitRec? {
        return call({ s, m -> s.copy(error = m) }) {
            book.addVisit(
                NewVisitRec(
                    clientId = clientId,
                    start = local.atZone(zone).toInstant().toString(),
                    durationMin = durationMin.toUInt(),
                    services = services,
                    total = null,
                    paid = paid,
                    reminder = reminder,
                    note = note,
                ),
            )
        }?.also { refresh() }
    }

    suspend fun reschedule(visitId: String, local: LocalDateTime, durationMin: Int? = null) =
        patch(visitId, VisitPatchRec(start = local.atZone(zone).toInstant().toString(), durationMin = durationMin?.toUInt()))

    /** A price typed by the master, in the business's currency ("800", "800,50"). */
    suspend fun setPaid(visitId: String, typed: String) {
        val minor = call({ s, m -> s.copy(error = m) }) { book.parseMoney(typed) } ?: return
        patch(visitId, VisitPatchRec(paid = minor))
    }

    /** `default`, `off`, or minutes before the visit. */
    suspend fun setReminder(visitId: String, reminder: String) = patch(visitId, VisitPatchRec(reminder = reminder))

    suspend fun cancel(visitId: String) = status(visitId, "cancelled")

    suspend fun complete(visitId: String) = status(visitId, "completed")

    suspend fun status(visitId: String, status: String) {
        call({ s, m -> s.copy(error = m) }) { book.setVisitStatus(visitId, status) } ?: return
        refresh()
    }

    private suspend fun patch(visitId: String, p: VisitPatchRec) {
        call({ s, m -> s.copy(error = m) }) { book.updateVisit(visitId, p) } ?: return
        refresh()
    }
}

package app.kartka.android

import android.app.TimePickerDialog
import android.os.Bundle
import android.widget.EditText
import android.widget.LinearLayout
import app.kartka.app.AgendaState
import app.kartka.app.AgendaViewModel
import java.time.LocalDate
import kotlinx.coroutines.launch

/** Day and week agenda; a visit is completed, cancelled, moved or marked paid from here. */
class AgendaActivity : ScreenActivity() {
    private lateinit var vm: AgendaViewModel
    private var day: LocalDate = LocalDate.now()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        vm = AgendaViewModel(kartka.book, kartka.io)
        page.addView(row(
            button("‹") { day = day.minusDays(if (vm.state.value.mode == AgendaState.Mode.DAY) 1 else 7); show() }
                .apply { contentDescription = s["agenda.previous"] },
            button(s["agenda.day"]) { vm.showDay(day) },
            button(s["agenda.week"]) { vm.showWeek(day) },
            button("›") { day = day.plusDays(if (vm.state.value.mode == AgendaState.Mode.DAY) 1 else 7); show() }
                .apply { contentDescription = s["agenda.next"] },
        ))
        val list = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        page.addView(list)
        vm.state.render { st ->
            list.removeAllViews()
            st.error?.let { list.addView(text(it)) }
            for ((d, rows) in st.days) {
                list.addView(text(kartka.book.formatDay(d.toString(), s.language), 18f))
                if (rows.isEmpty()) list.addView(text("—"))
                for (r in rows) {
                    list.addView(entry("${r.time}  ${r.clientName}\n${r.services} · ${r.total}" + (r.due?.let { " · " + s.format("agenda.due", it) } ?: "") + " · ${s.status(r.visit.status)}") {
                        actions(r.visit.id, r.visit.clientId, r.day)
                    })
                }
            }
        }
        scope.launch { vm.showDay(day) }
    }

    /**
     * A confirmation request sent by hand: the server signs the link, the master picks one of
     * the channels the client agreed to, the phone's app opens with the text, and the message
     * goes into the history once handed over.
     */
    private suspend fun askToConfirm(visitId: String, clientId: String) {
        val card = app.kartka.app.ClientCardViewModel(kartka.book, clientId, kartka.io)
        card.load()
        val text = card.confirmationRequest(visitId) ?: return toast(card.state.value.error ?: "")
        val channels = card.state.value.actions.filter { it.enabled && it.action != "call" }
        if (channels.isEmpty()) return toast(s["agenda.no_channel"])
        choose(s["agenda.send_by"], channels.map { s.channel(it.action) }) { i ->
            scope.launch {
                val spec = card.prepare(channels[i].action, text) ?: return@launch toast(card.state.value.error ?: "")
                if (launch(spec)) card.recordSent(channels[i].action, text)
            }
        }
    }

    private suspend fun show() =
        if (vm.state.value.mode == AgendaState.Mode.DAY) vm.showDay(day) else vm.showWeek(day)

    private fun actions(visitId: String, clientId: String, on: LocalDate) {
        choose(s["agenda.visit"], listOf("agenda.confirmed", "agenda.completed", "agenda.no_show", "agenda.cancel", "agenda.move", "agenda.paid", "agenda.reminder_off", "agenda.ask_confirm").map { s[it] }) { i ->
            when (i) {
                0 -> scope.launch { vm.status(visitId, "confirmed") }
                1 -> scope.launch { vm.complete(visitId) }
                2 -> scope.launch { vm.status(visitId, "no_show") }
                3 -> scope.launch { vm.cancel(visitId) }
                4 -> TimePickerDialog(this, { _, h, m -> scope.launch { vm.reschedule(visitId, on.atTime(h, m)) } }, 10, 0, true).show()
                5 -> {
                    val amount = EditText(this).apply { hint = s["agenda.amount_paid"] }
                    android.app.AlertDialog.Builder(this).setTitle(s["agenda.paid"]).setView(amount)
                        .setPositiveButton(s["common.save"]) { _, _ -> scope.launch { vm.setPaid(visitId, amount.text.toString()) } }
                        .show()
                }
                6 -> scope.launch { vm.setReminder(visitId, "off") }
                7 -> scope.launch { askToConfirm(visitId, clientId) }
            }
        }
    }
}

package app.kartka.android

import android.app.AlertDialog
import android.os.Bundle
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.Switch
import android.widget.TextView
import app.kartka.app.CONSENT_SOURCES
import app.kartka.app.ClientCardViewModel
import kotlinx.coroutines.launch

/**
 * The client card: contacts and money, the Call/SMS/WhatsApp/Telegram/Viber/email buttons
 * (disabled with the reason), the composer, consent toggles that ask for the source, and the
 * history of visits and messages.
 */
class ClientCardActivity : ScreenActivity() {
    private lateinit var vm: ClientCardViewModel

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        vm = ClientCardViewModel(kartka.book, intent.getStringExtra("client")!!, kartka.io, platform = "android")
        val header = text(size = 24f)
        val details = text()
        val money = text()
        val next = text()
        val error = text()
        page.addView(header)
        // Under the name: whether what this card shows is what the other phones have.
        page.addView(syncLine { vm.load() })
        page.addView(details); page.addView(money); page.addView(next); page.addView(error)
        // Edits made on two phones at once, to settle before anything else (issue 24).
        val conflicts = ConflictsSection(this, s).also { page.addView(it.view) }
        // What a master needs at a glance: the message buttons right under name, phone,
        // money and the next visit; editing is below them.
        val actions = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        page.addView(actions)
        page.addView(button(s["card.edit"]) { editCard() })

        val composer = section(s["card.message"])
        var channel = "sms"
        var current = vm.composer(channel)
        val counter = text(size = 12f)
        val body: EditText = field(s["card.text"]) { t -> current.type(t); counter.text = current.state.smsCounter ?: "" }
        composer.addView(body); composer.addView(counter)
        // Through the server's gateway rather than the phone's app: the reply a client sees
        // from the business's number, with its delivery status on every device.
        val via = listOf("sms", "whatsapp", "telegram", "email")
        composer.addView(button(s["card.send_business"]) {
            choose(s["card.channel"], via.map(s::channel)) { i ->
                scope.launch {
                    current = vm.composer(via[i]).also { it.type(body.text.toString()) }
                    current.loadTemplates()
                    current.state.whatsAppNote?.let { toast(it) }
                    current.sendThroughServer()
                    current.state.error?.let { toast(it) } ?: body.setText("")
                }
            }
        })
        composer.addView(button(s["card.template"]) {
            current.loadTemplates()
            val ts = current.state.templates
            if (ts.isEmpty()) { toast(s.format("card.no_templates", s.channel(channel))); return@button }
            choose(s["card.template"], ts.map { it.name }) { i ->
                scope.launch { current.useTemplate(ts[i].id); body.setText(current.state.text) }
            }
        })

        val consent = section(s["card.consent"])
        val visits = section(s["card.visits"])
        page.addView(button(s["card.book_visit"]) { bookVisit() })
        val history = section(s["card.history"])

        vm.state.render { st ->
            val c = st.client ?: return@render
            header.text = (if (c.clientClass == "vip") "★ " else "") + c.name
            details.text = listOfNotNull(
                c.phones.joinToString(", ") { it.raw }.ifEmpty { null },
                c.email, c.birthday?.let { s.format("card.birthday", it) }, c.comment,
                c.loyaltyCard?.let { s.format("card.loyalty", it) }, c.discountPercent.takeIf { it > 0u }?.let { s.format("card.discount", it) },
                s.plural("visits", c.visits.toLong()),
            ).joinToString("\n")
            money.text = st.money?.let { s.format("card.money", it.sold, it.paid, it.balance) }
            val now = java.time.Instant.now().toString()
            next.text = st.visits.filter { it.start > now && it.status in setOf("booked", "confirmed") }.minByOrNull { it.start }
                ?.let { v -> s.format("card.next_visit", "${kartka.book.formatWhen(v.start, s.language)} · ${v.services.joinToString { it.name }}") } ?: ""
            error.text = st.error ?: ""
            conflicts.show(st.conflicts) { field, keep -> scope.launch { vm.settleConflict(field, keep) } }

            actions.removeAllViews()
            for (a in st.actions) {
                val label = s.channel(a.action)
                actions.addView(button(if (a.enabled) label else "$label — ${a.reason?.let(s::reason)}") {
                    if (a.action == "call") vm.call()?.let { launch(it) } else {
                        channel = a.action
                        current = vm.composer(channel).also { it.type(body.text.toString()) }
                        counter.text = current.state.smsCounter ?: ""
                        val spec = vm.prepare(channel, body.text.toString()) ?: return@button
                        if (launch(spec)) vm.recordSent(channel, body.text.toString())
                    }
                }.apply { isEnabled = a.enabled; textSize = 18f })
            }

            consent.removeAllViews()
            for (t in st.consent) {
                consent.addView(Switch(this).apply {
                    text = s.channel(t.channel) + (t.lastChange?.let { " (${s["source.${it.source}"]}, ${it.at.take(10)})" } ?: "")
                    minHeight = dp(48)
                    isChecked = t.granted
                    setOnCheckedChangeListener { sw, on -> askSource(t.channel, on) { sw.isChecked = !on } }
                })
            }
            visits.removeAllViews()
            st.visits.forEach { v -> visits.addView(text("${kartka.book.formatMoment(v.start, s.language)} · ${v.services.joinToString { it.name }} · ${s.status(v.status)}")) }
            history.removeAllViews()
            st.messages.forEach { m ->
                val arrow = if (m.kind == "inbound") "← " else "→ "
                history.addView(text("$arrow${m.at.take(16).replace('T', ' ')} · ${s.channel(m.channel)} · ${s.status(m.status)}" +
                    (m.detail?.let { " · $it" } ?: "") + "\n${m.body}"))
            }
        }
        scope.launch { vm.load() }
    }

    /** Every field of the card; an emptied field is cleared. */
    private fun editCard() {
        val f = vm.form() ?: return
        val fields = listOf(
            s["edit.name"] to f.name, s["edit.phones"] to f.phones, s["edit.email"] to f.email,
            s["edit.birthday"] to f.birthday, s["edit.comment"] to f.comment,
            s["edit.class"] to f.clientClass, s["edit.tags"] to f.tags,
            s["edit.loyalty"] to f.loyaltyCard, s["edit.discount"] to f.discountPercent,
        ).map { (hint, value) -> EditText(this).apply { this.hint = hint; setText(value) } }
        val form = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL; fields.forEach { addView(it) } }
        AlertDialog.Builder(this).setTitle(s["card.edit"]).setView(android.widget.ScrollView(this).apply { addView(form) })
            .setPositiveButton(s["common.save"]) { _, _ ->
                val v = fields.map { it.text.toString() }
                scope.launch {
                    vm.save(app.kartka.app.CardForm(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]))
                    vm.state.value.error?.let { toast(it) }
                }
            }
            .show()
    }

    /** A new visit: service, price (as typed, in the business's currency), day, time, length. */
    private fun bookVisit() {
        val form = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        val service = EditText(this).apply { hint = s["book.service"] }
        val price = EditText(this).apply { hint = s["book.price"] }
        val date = EditText(this).apply { setText(java.time.LocalDate.now().plusDays(1).toString()) }
        val time = EditText(this).apply { setText("10:00") }
        val minutes = EditText(this).apply { setText("60") }
        listOf(service, price, date, time, minutes).forEach { form.addView(it) }
        AlertDialog.Builder(this).setTitle(s["card.book_visit"]).setView(form)
            .setPositiveButton(s["book.book"]) { _, _ ->
                scope.launch {
                    val agenda = app.kartka.app.AgendaViewModel(kartka.book, kartka.io)
                    val at = runCatching {
                        java.time.LocalDate.parse(date.text.toString().trim()).atTime(java.time.LocalTime.parse(time.text.toString().trim()))
                    }.getOrNull() ?: return@launch toast(s["book.bad_time"])
                    val minor = runCatching { kartka.book.parseMoney(price.text.toString()) }.getOrNull()
                        ?: return@launch toast(s["book.bad_price"])
                    agenda.create(vm.clientId, at, minutes.text.toString().toIntOrNull() ?: 60,
                        listOf(app.kartka.core.ServiceRec(service.text.toString(), minor, 1u)))
                    agenda.state.value.error?.let { toast(it) }
                    vm.load()
                }
            }
            .show()
    }

    /** Consent is recorded only with its source (and an optional note); cancelling undoes the switch. */
    private fun askSource(channel: String, granted: Boolean, undo: () -> Unit) {
        val note = EditText(this).apply { hint = s["consent.note"] }
        var source = 0
        AlertDialog.Builder(this)
            .setTitle(s.format(if (granted) "consent.grant" else "consent.withdraw", s.channel(channel)))
            .setSingleChoiceItems(CONSENT_SOURCES.map { s["source.$it"] }.toTypedArray(), 0) { _, i -> source = i }
            .setView(note)
            .setPositiveButton(s["consent.record"]) { _, _ ->
                scope.launch { vm.setConsent(channel, granted, CONSENT_SOURCES[source], note.text.toString()) }
            }
            .setNegativeButton(s["common.cancel"]) { _, _ -> undo() }
            .setOnCancelListener { undo() }
            .show()
    }
}

package app.kartka.android

import android.app.AlertDialog
import android.os.Bundle
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.Switch
import android.widget.TextView
import app.kartka.app.CONSENT_SOURCES
import app.kartka.app.ClientCardViewModel
import app.kartka.app.channelLabel
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
        val header = text(size = 20f)
        val details = text()
        val money = text()
        val error = text()
        page.addView(header); page.addView(details); page.addView(money); page.addView(error)
        page.addView(button("Edit") { editCard() })
        val actions = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        page.addView(actions)

        val composer = section("Message")
        var channel = "sms"
        var current = vm.composer(channel)
        val counter = text(size = 12f)
        val body: EditText = field("Text") { t -> current.type(t); counter.text = current.state.smsCounter ?: "" }
        composer.addView(body); composer.addView(counter)
        // Through the server's gateway rather than the phone's app: the reply a client sees
        // from the business's number, with its delivery status on every device.
        val via = listOf("sms", "whatsapp", "telegram", "email")
        composer.addView(button("Send via the business") {
            choose("Channel", via.map(::channelLabel)) { i ->
                scope.launch {
                    current = vm.composer(via[i]).also { it.type(body.text.toString()) }
                    current.loadTemplates()
                    current.state.whatsAppNote?.let { toast(it) }
                    current.sendThroughServer()
                    current.state.error?.let { toast(it) } ?: body.setText("")
                }
            }
        })
        composer.addView(button("Template") {
            current.loadTemplates()
            val ts = current.state.templates
            if (ts.isEmpty()) { toast("No templates for ${channelLabel(channel)}"); return@button }
            choose("Template", ts.map { it.name }) { i ->
                scope.launch { current.useTemplate(ts[i].id); body.setText(current.state.text) }
            }
        })

        val consent = section("Consent")
        val visits = section("Visits")
        page.addView(button("Book a visit") { bookVisit() })
        val history = section("Messages")

        vm.state.render { s ->
            val c = s.client ?: return@render
            header.text = (if (c.clientClass == "vip") "★ " else "") + c.name
            details.text = listOfNotNull(
                c.phones.joinToString(", ") { it.raw }.ifEmpty { null },
                c.email, c.birthday?.let { "Birthday $it" }, c.comment,
                c.loyaltyCard?.let { "Card $it" }, c.discountPercent.takeIf { it > 0u }?.let { "Discount $it%" },
                "${c.visits} visits",
            ).joinToString("\n")
            money.text = s.money?.let { "Sold ${it.sold} · Paid ${it.paid} · Balance ${it.balance}" }
            error.text = s.error ?: ""

            actions.removeAllViews()
            for (a in s.actions) {
                actions.addView(button(if (a.enabled) a.label else "${a.label} — ${a.reason}") {
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
            for (t in s.consent) {
                consent.addView(Switch(this).apply {
                    text = t.label + (t.lastChange?.let { " (${it.source}, ${it.at.take(10)})" } ?: "")
                    isChecked = t.granted
                    setOnCheckedChangeListener { sw, on -> askSource(t.channel, on) { sw.isChecked = !on } }
                })
            }
            visits.removeAllViews()
            s.visits.forEach { v -> visits.addView(text("${v.start.take(16).replace('T', ' ')} · ${v.services.joinToString { it.name }} · ${v.status}")) }
            history.removeAllViews()
            s.messages.forEach { m ->
                val arrow = if (m.kind == "inbound") "← " else "→ "
                history.addView(text("$arrow${m.at.take(16).replace('T', ' ')} · ${channelLabel(m.channel)} · ${m.status}" +
                    (m.detail?.let { " · $it" } ?: "") + "\n${m.body}"))
            }
        }
        scope.launch { vm.load() }
    }

    /** Every field of the card; an emptied field is cleared. */
    private fun editCard() {
        val f = vm.form() ?: return
        val fields = listOf(
            "Name" to f.name, "Phones, comma-separated" to f.phones, "Email" to f.email,
            "Birthday (1990-04-15 or --04-15)" to f.birthday, "Comment" to f.comment,
            "Class (regular, vip, …)" to f.clientClass, "Tags, comma-separated" to f.tags,
            "Loyalty card" to f.loyaltyCard, "Discount %" to f.discountPercent,
        ).map { (hint, value) -> EditText(this).apply { this.hint = hint; setText(value) } }
        val form = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL; fields.forEach { addView(it) } }
        AlertDialog.Builder(this).setTitle("Edit").setView(android.widget.ScrollView(this).apply { addView(form) })
            .setPositiveButton("Save") { _, _ ->
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
        val service = EditText(this).apply { hint = "Service" }
        val price = EditText(this).apply { hint = "Price" }
        val date = EditText(this).apply { setText(java.time.LocalDate.now().plusDays(1).toString()) }
        val time = EditText(this).apply { setText("10:00") }
        val minutes = EditText(this).apply { setText("60") }
        listOf(service, price, date, time, minutes).forEach { form.addView(it) }
        AlertDialog.Builder(this).setTitle("Book a visit").setView(form)
            .setPositiveButton("Book") { _, _ ->
                scope.launch {
                    val agenda = app.kartka.app.AgendaViewModel(kartka.book, kartka.io)
                    val at = runCatching {
                        java.time.LocalDate.parse(date.text.toString().trim()).atTime(java.time.LocalTime.parse(time.text.toString().trim()))
                    }.getOrNull() ?: return@launch toast("Date as 2026-12-01, time as 10:00")
                    val minor = runCatching { kartka.book.parseMoney(price.text.toString()) }.getOrNull()
                        ?: return@launch toast("Price as 800 or 800,50")
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
        val note = EditText(this).apply { hint = "Note (form number, message…)" }
        var source = 0
        AlertDialog.Builder(this)
            .setTitle("${if (granted) "Consent to" else "Withdrawal of"} ${channelLabel(channel)}: how?")
            .setSingleChoiceItems(CONSENT_SOURCES.toTypedArray(), 0) { _, i -> source = i }
            .setView(note)
            .setPositiveButton("Record") { _, _ ->
                scope.launch { vm.setConsent(channel, granted, CONSENT_SOURCES[source], note.text.toString()) }
            }
            .setNegativeButton("Cancel") { _, _ -> undo() }
            .setOnCancelListener { undo() }
            .show()
    }
}

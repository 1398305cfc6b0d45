package app.kartka.app

import app.kartka.core.ClientBook
import app.kartka.core.ClientPatchRec
import app.kartka.core.ClientRec
import app.kartka.core.ConsentEventRec
import app.kartka.core.MessageRec
import app.kartka.core.TemplateRec
import app.kartka.core.VisitRec
import app.kartka.core.smsInfo
import kotlinx.coroutines.CoroutineDispatcher

/** A big button of the card; a disabled one says why. */
data class ActionButton(val action: String, val label: String, val enabled: Boolean, val reason: String?)

/** One consent toggle, with the evidence of its last change. */
data class ConsentToggle(val channel: String, val label: String, val granted: Boolean, val lastChange: ConsentEventRec?)

/** The card's money line: sold, paid and balance in the business's currency. */
data class Money(val sold: String, val paid: String, val balance: String, val owes: Boolean)

data class CardState(
    val client: ClientRec? = null,
    val money: Money? = null,
    val actions: List<ActionButton> = emptyList(),
    val consent: List<ConsentToggle> = emptyList(),
    val visits: List<VisitRec> = emptyList(),
    val messages: List<MessageRec> = emptyList(),
    val error: String? = null,
    /** Fields two phones changed apart, still to settle (CardConflicts.kt). */
    val conflicts: List<CardConflict> = emptyList(),
)

/** The composer under the card's message buttons: text, template, and what an SMS costs. */
data class ComposerState(
    val channel: String,
    val text: String = "",
    val templates: List<TemplateRec> = emptyList(),
    /** "1 SMS · 42/70" style counter, shown for SMS only. */
    val smsCounter: String? = null,
    /**
     * WhatsApp only: until when free text may be sent through the server, or that only
     * approved templates can go now. Said before the master types, not after a refusal.
     */
    val whatsAppNote: String? = null,
    /** The reply the server will send, once queued. */
    val queued: MessageRec? = null,
    val error: String? = null,
)

/** The card's edit form as text fields. */
data class CardForm(
    val name: String,
    val phones: String,
    val email: String,
    val birthday: String,
    val comment: String,
    val clientClass: String,
    val tags: String,
    val loyaltyCard: String,
    val discountPercent: String,
)

/** Where a grant or withdrawal of consent came from: the toggle asks before it records. */
val CONSENT_SOURCES = listOf("verbal", "written", "booking_form", "client_reply", "other")

/** The channels the card shows consent toggles for, in order. */
val CONSENT_CHANNELS = listOf("sms", "whatsapp", "telegram", "viber", "email", "marketing")

/**
 * The client card. Buttons and their disabled reasons come from the core
 * (`card_actions`), so the app never decides consent on its own; a message is built by the
 * core, handed to the phone's app through [LaunchSpec], and recorded in the history once the
 * master has sent it, which re-checks consent at that moment.
 */
class ClientCardViewModel(
    private val book: ClientBook,
    val clientId: String,
    private val io: CoroutineDispatcher,
    /** `android` or `ios`: the SMS link differs. */
    private val platform: String = "android",
) : Screen<CardState>(CardState(), io) {

    suspend fun load() {
        val loaded = call({ s, m -> s.copy(error = m) }) {
            val c = book.getClient(clientId)
            val consent = book.consent(clientId)
            CardState(
                client = c,
                money = Money(
                    sold = book.formatMoney(c.sold),
                    paid = book.formatMoney(c.paid),
                    balance = book.formatMoney(c.balance),
                    owes = c.balance > 0,
                ),
                actions = book.cardActions(clientId).map {
                    ActionButton(it.action, channelLabel(it.action), it.enabled, it.reason)
                },
                consent = CONSENT_CHANNELS.map { ch ->
                    ConsentToggle(
                        channel = ch,
                        label = channelLabel(ch),
                        granted = ch in consent.granted,
                        lastChange = consent.evidence.lastOrNull { it.subject == ch },
                    )
                },
                visits = book.clientVisits(clientId),
                messages = book.history(clientId).sortedByDescending { it.at },
                conflicts = cardConflicts(book, clientId),
            )
        } ?: return
        update { loaded }
    }

    /**
     * The card's edit form, as typed: every field is sent (an emptied one is cleared), tags
     * as a comma-separated line, the discount as a whole percent.
     */
    suspend fun save(form: CardForm) {
        val c = state.value.client ?: return
        val discount = form.discountPercent.trim().ifEmpty { "0" }.toIntOrNull()
        if (discount == null || discount !in 0..100) {
            update { it.copy(error = Strings.device()["error.discount"]) }
            return
        }
        val tags = form.tags.split(',').map { it.trim() }.filter { it.isNotEmpty() }
        edit(
            ClientPatchRec(
                name = form.name,
                phones = form.phones.split(',').map { it.trim() }.filter { it.isNotEmpty() },
                email = form.email,
                birthday = form.birthday,
                comment = form.comment,
                clientClass = form.clientClass.trim().ifEmpty { "regular" },
                addTags = tags - c.tags.toSet(),
                removeTags = c.tags - tags.toSet(),
                loyaltyCard = form.loyaltyCard,
                discountPercent = discount.toUByte(),
            ),
        )
    }

    /** The edit form filled from the card as it stands. */
    fun form(): CardForm? = state.value.client?.let { c ->
        CardForm(
            name = c.name,
            phones = c.phones.joinToString(", ") { it.raw },
            email = c.email.orEmpty(),
            birthday = c.birthday.orEmpty(),
            comment = c.comment.orEmpty(),
            clientClass = c.clientClass,
            tags = c.tags.joinToString(", "),
            loyaltyCard = c.loyaltyCard.orEmpty(),
            discountPercent = c.discountPercent.toString(),
        )
    }

    suspend fun edit(patch: ClientPatchRec) {
        call({ s, m -> s.copy(error = m) }) { book.updateClient(clientId, patch) } ?: return
        load()
    }

    /** Keeps one value of a conflict ([keep] = null: every number); the card reloads. */
    suspend fun settleConflict(field: String, keep: UInt?) {
        call({ s, m -> s.copy(error = m) }) { settleCardConflict(book, clientId, field, keep) } ?: return
        load()
    }

    /** A consent toggle: [source] is required, so the evidence is never blank. */
    suspend fun setConsent(channel: String, granted: Boolean, source: String, note: String) {
        require(source in CONSENT_SOURCES) { "unknown consent source $source" }
        call({ s, m -> s.copy(error = m) }) { book.setConsent(clientId, channel, granted, source, note) } ?: return
        load()
    }

    /**
     * The text of a confirmation request for one of the client's visits (a template with
     * `{confirm_link}`, or a sentence in the business's language): the server signs the link,
     * so this needs the network. The master sends it like any message, from the composer.
     */
    suspend fun confirmationRequest(visitId: String, templateId: String? = null): String? =
        call({ s, m -> s.copy(error = m) }) { book.confirmationRequest(visitId, templateId) }

    /** The dialer, with the number filled in. */
    suspend fun call(): LaunchSpec? =
        call({ s, m -> s.copy(error = m) }) { LaunchSpec.of(book.dialLink(clientId)) }

    fun composer(channel: String): Composer = Composer(channel)

    /**
     * The link that opens the phone's app with [text] ready, or null (with the reason in
     * the card's error) when consent or an address is missing.
     */
    suspend fun prepare(channel: String, text: String): LaunchSpec? =
        call({ s, m -> s.copy(error = m) }) {
            LaunchSpec.of(book.quickMessage(clientId, channel, text, platform).link)
        }

    /** After the phone's app opened: the message goes into the history on every device. */
    suspend fun recordSent(channel: String, text: String) {
        call({ s, m -> s.copy(error = m) }) { book.recordMessage(clientId, channel, text) } ?: return
        load()
    }

    inner class Composer(channel: String) {
        var state = ComposerState(channel = channel)
            private set

        suspend fun loadTemplates() {
            try {
                val all = kotlinx.coroutines.withContext(io) { book.templates() }
                val window = if (state.channel == "whatsapp") {
                    kotlinx.coroutines.withContext(io) { book.whatsappWindow(clientId) }
                } else {
                    null
                }
                state = state.copy(
                    templates = all.filter { it.channel == null || it.channel == state.channel },
                    whatsAppNote = when {
                        state.channel != "whatsapp" -> null
                        window != null -> Strings.device().format("whatsapp.free_until", localTime(window))
                        else -> Strings.device()["whatsapp.templates_only"]
                    },
                )
            } catch (e: app.kartka.core.ApiException) {
                state = state.copy(error = userMessage(e))
            }
        }

        /**
         * Sends the text (or [templateId]) through the server's gateway rather than the phone's
         * app: queued now, sent after the next sync; the card shows its status as it moves.
         */
        suspend fun sendThroughServer(templateId: String? = null) {
            try {
                val m = kotlinx.coroutines.withContext(io) {
                    book.reply(clientId, state.channel, state.text.takeIf { templateId == null }, templateId)
                }
                state = state.copy(queued = m, text = "", smsCounter = null, error = null)
                load()
            } catch (e: app.kartka.core.ApiException) {
                state = state.copy(error = userMessage(e))
            }
        }

        private fun localTime(rfc3339: String): String =
            java.time.OffsetDateTime.parse(rfc3339)
                .atZoneSameInstant(java.time.ZoneId.of(book.business().zone))
                .toLocalTime()
                .withSecond(0)
                .withNano(0)
                .toString()

        fun type(text: String) {
            state = state.copy(text = text, smsCounter = counter(text), error = null)
        }

        suspend fun useTemplate(templateId: String, visitId: String? = null) {
            try {
                type(kotlinx.coroutines.withContext(io) { book.renderTemplate(templateId, clientId, visitId) })
            } catch (e: app.kartka.core.ApiException) {
                state = state.copy(error = userMessage(e))
            }
        }

        private fun counter(text: String): String? {
            if (state.channel != "sms" || text.isEmpty()) return null
            val info = smsInfo(text)
            val inLast = info.units.toInt() - (info.segments.toInt() - 1) * info.perSegment.toInt()
            return "${info.segments} SMS · $inLast/${info.perSegment}" + if (info.encoding == "ucs2") " · Unicode" else ""
        }
    }
}

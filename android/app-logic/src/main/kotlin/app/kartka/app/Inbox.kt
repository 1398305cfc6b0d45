package app.kartka.app

import app.kartka.core.ClientBook
import app.kartka.core.InboxEntryRec
import app.kartka.core.NoteRec
import java.time.Instant
import kotlinx.coroutines.CoroutineDispatcher

data class InboxState(
    /** `unanswered`, `open`, `postponed`, `closed`, or null for all. */
    val status: String? = "unanswered",
    val rows: List<InboxEntryRec> = emptyList(),
    /** Staff id → name, for "who has it". */
    val staff: Map<String, String> = emptyMap(),
    val error: String? = null,
)

/**
 * The inbox: every conversation, latest first, by status. A conversation is taken, postponed
 * or closed here (staff see a note of it on every device; the client never does); someone
 * who wrote without being a client (a lead) is attached to a client or taken in.
 */
class InboxViewModel(
    private val book: ClientBook,
    io: CoroutineDispatcher,
    /** This device's staff member, who "Take" assigns. */
    private val me: String? = null,
) : Screen<InboxState>(InboxState(), io) {

    suspend fun show(status: String?) {
        update { it.copy(status = status) }
        load()
    }

    suspend fun load() {
        val status = state.value.status
        val (rows, staff) = call({ s, m -> s.copy(error = m) }) {
            book.inbox(status, 0u, 200u) to book.staff().associate { it.id to it.name }
        } ?: return
        update { it.copy(rows = rows, staff = staff, error = null) }
    }

    suspend fun take(clientId: String) = change(clientId, assign = me ?: "")

    suspend fun close(clientId: String) = change(clientId, status = "closed")

    suspend fun reopen(clientId: String) = change(clientId, status = "open")

    suspend fun postpone(clientId: String, until: Instant) =
        change(clientId, status = "postponed", until = until.toString())

    suspend fun notes(clientId: String): List<NoteRec> =
        call({ s, m -> s.copy(error = m) }) { book.notes(clientId) } ?: emptyList()

    suspend fun note(clientId: String, text: String) {
        call({ s, m -> s.copy(error = m) }) { book.addNote(clientId, text) } ?: return
        load()
    }

    /** The lead's messages and number go to [clientId]; the lead leaves the inbox. */
    suspend fun attach(leadId: String, clientId: String) {
        call({ s, m -> s.copy(error = m) }) { book.attachLead(leadId, clientId) } ?: return
        load()
    }

    /** The lead becomes a client, named [name] if given. */
    suspend fun takeIn(leadId: String, name: String?) {
        call({ s, m -> s.copy(error = m) }) { book.acceptLead(leadId, name?.takeIf { it.isNotBlank() }) } ?: return
        load()
    }

    private suspend fun change(clientId: String, status: String? = null, until: String? = null, assign: String? = null) {
        call({ s, m -> s.copy(error = m) }) { book.changeConversation(clientId, status, until, assign) } ?: return
        load()
    }
}

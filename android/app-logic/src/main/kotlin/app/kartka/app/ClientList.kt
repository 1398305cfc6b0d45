package app.kartka.app

import app.kartka.core.ClientBook
import app.kartka.core.ClientRec
import kotlinx.coroutines.CoroutineDispatcher

/** One row of the client list. */
data class ClientRow(
    val id: String,
    val name: String,
    /** The primary number as typed, or the email when there is no number. */
    val contact: String?,
    val vip: Boolean,
    val classLabel: String?,
    val tags: List<String>,
    /** Formatted in the business's currency; null when the client owes nothing. */
    val owes: String?,
)

data class ClientListState(
    val query: String = "",
    val clientClass: String? = null,
    val tag: String? = null,
    val rows: List<ClientRow> = emptyList(),
    /** More rows may follow: the list asks for the next page when scrolled to the end. */
    val more: Boolean = false,
    val error: String? = null,
)

/**
 * The client list: instant search by name, phone digits or email, filtered by class and tag.
 * Every keystroke starts a search; only the newest one's answer is shown (an older, slower
 * answer arriving late is dropped), so typing fast never shows stale rows.
 */
class ClientListViewModel(
    private val book: ClientBook,
    io: CoroutineDispatcher,
    private val pageSize: Int = 50,
) : Screen<ClientListState>(ClientListState(), io) {
    private var generation = 0L

    suspend fun search(query: String) = reload(state.value.copy(query = query))

    suspend fun filter(clientClass: String?, tag: String?) =
        reload(state.value.copy(clientClass = clientClass, tag = tag))

    /** After an edit here or a synced change from another device. */
    suspend fun refresh() = reload(state.value)

    /**
     * A new client from the list's "New client" form: name and a number as typed. Every
     * consent starts off; the card's toggles record it with its source. Returns the new id.
     */
    suspend fun add(name: String, phone: String?, email: String? = null): String? {
        val c = call({ st, msg -> st.copy(error = msg) }) {
            book.addClient(
                app.kartka.core.NewClientRec(
                    name = name.trim(),
                    phones = listOfNotNull(phone?.trim()?.ifEmpty { null }),
                    email = email?.trim()?.ifEmpty { null },
                    birthday = null,
                    comment = null,
                    clientClass = null,
                    tags = emptyList(),
                ),
            )
        } ?: return null
        refresh()
        return c.id
    }

    /**
     * The numbers a new phone reader read differently from what the cards had (issue 23),
     * not yet shown: the list shows them once, then [correctionsSeen].
     */
    suspend fun corrections(): List<app.kartka.core.PhoneCorrectionRec> =
        call({ st, msg -> st.copy(error = msg) }) { book.phoneCorrections() } ?: emptyList()

    suspend fun correctionsSeen() {
        call({ st, msg -> st.copy(error = msg) }) { book.markPhoneCorrectionsSeen() }
    }

    suspend fun loadMore() {
        val s = state.value
        if (!s.more) return
        val gen = generation
        val page = fetch(s, s.rows.size) ?: return
        if (gen != generation) return
        update { it.copy(rows = it.rows + page.map(::row), more = page.size == pageSize) }
    }

    private suspend fun reload(wanted: ClientListState) {
        val gen = ++generation
        update { wanted.copy(rows = it.rows, error = null) }
        val page = fetch(wanted, 0) ?: return
        if (gen != generation) return
        update { it.copy(rows = page.map(::row), more = page.size == pageSize) }
    }

    private suspend fun fetch(s: ClientListState, offset: Int): List<ClientRec>? =
        call({ st, msg -> st.copy(error = msg) }) {
            book.findClients(s.query, s.clientClass, s.tag, offset.toUInt(), pageSize.toUInt())
        }

    private fun row(c: ClientRec) = ClientRow(
        id = c.id,
        name = c.name,
        contact = c.phones.firstOrNull { it.primary }?.raw ?: c.phones.firstOrNull()?.raw ?: c.email,
        vip = c.clientClass == "vip",
        classLabel = c.clientClass.takeUnless { it == "regular" || it == "vip" },
        tags = c.tags,
        owes = if (c.balance > 0) book.formatMoney(c.balance) else null,
    )
}

package app.kartka.app

import app.kartka.core.ClientBook
import app.kartka.core.LoggedMessageRec
import app.kartka.core.MessageFilterRec
import java.time.LocalDate
import java.time.ZoneId
import kotlinx.coroutines.CoroutineDispatcher

data class MessageLogState(
    val channel: String? = null,
    val status: String? = null,
    val kind: String? = null,
    val from: LocalDate? = null,
    val to: LocalDate? = null,
    val rows: List<LoggedMessageRec> = emptyList(),
    val more: Boolean = false,
    val error: String? = null,
)

/**
 * The business's message log: every client's messages, newest first, filtered by channel,
 * status, direction and the business's days. "Failed" is the filter a master opens most.
 */
class MessageLogViewModel(
    private val book: ClientBook,
    io: CoroutineDispatcher,
    private val pageSize: Int = 100,
) : Screen<MessageLogState>(MessageLogState(), io) {
    private val zone: ZoneId by lazy { ZoneId.of(book.business().zone) }

    suspend fun filter(channel: String? = null, status: String? = null, kind: String? = null, from: LocalDate? = null, to: LocalDate? = null) {
        update { MessageLogState(channel, status, kind, from, to) }
        load(0)
    }

    suspend fun loadMore() {
        if (state.value.more) load(state.value.rows.size)
    }

    private suspend fun load(offset: Int) {
        val s = state.value
        val page = call({ st, m -> st.copy(error = m) }) {
            book.messageLog(
                MessageFilterRec(
                    channel = s.channel,
                    status = s.status,
                    kind = s.kind,
                    from = s.from?.atStartOfDay(zone)?.toInstant()?.toString(),
                    to = s.to?.plusDays(1)?.atStartOfDay(zone)?.toInstant()?.toString(),
                ),
                offset.toUInt(),
                pageSize.toUInt(),
            )
        } ?: return
        update { it.copy(rows = (if (offset == 0) emptyList() else it.rows) + page, more = page.size == pageSize, error = null) }
    }
}

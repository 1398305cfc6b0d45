package app.kartka.app

import app.kartka.core.ApiException
import app.kartka.core.ClientBook
import app.kartka.core.SyncReportRec
import app.kartka.core.SyncStateListener
import app.kartka.core.SyncStateRec
import app.kartka.core.SyncStatusListener
import app.kartka.core.SyncStatusRec
import java.time.Instant
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.withContext

/** What the sync line at the top of the client list and the card shows. */
data class SyncState(
    /** The foreground loop is running. */
    val running: Boolean = false,
    /**
     * The book's sync status as the core last told it: paired, connected, last sync, edits
     * waiting, a fresh device's progress, the last problem. Kept in the book, so it says the
     * same after a restart or a sync made by the background job.
     */
    val book: SyncStateRec? = null,
    /** A sync the master asked for (pull to refresh) is under way. */
    val refreshing: Boolean = false,
    /** Sum over this session of documents edited here and elsewhere at once, merged. */
    val conflictsResolved: Int = 0,
    /** Shown once after a sync that merged concurrent edits or moved a staff member's alerts. */
    val notice: String? = null,
)

/**
 * The app's one subscriber to the book's sync status (the core keeps one), and the foreground
 * sync loop while the app is open: the core's loop thread long-polls the server and backs off
 * when offline. Android starts the loop in `onStart` of the first visible Activity and stops it
 * in `onStop` of the last; the periodic background job (JobScheduler) calls `syncNow` instead,
 * and pull to refresh calls [syncNow] here.
 *
 * What the line says comes from the core's status ([SyncState.book], worded by [line]); what
 * only a finished sync's report tells (concurrent edits merged, alerts moved) comes from the
 * loop's reports and from [syncNow].
 */
class SyncController(
    private val book: ClientBook,
    private val words: Strings = Strings.device(),
    private val io: CoroutineDispatcher = Dispatchers.IO,
    private val clock: () -> Instant = Instant::now,
) : SyncStatusListener, SyncStateListener {
    private val mutable = MutableStateFlow(SyncState())
    val state: StateFlow<SyncState> = mutable.asStateFlow()

    private val lineWords = SyncLineWords(words) { at -> runCatching { book.formatMoment(at, words.language) }.getOrNull() }

    init {
        // Told the current status at once, then every change, on the thread that made it.
        book.observeSyncState(this)
    }

    /** The line's words now ("Synced 2 min ago" ages: screens ask again every half minute). */
    fun line(now: Instant = clock()): SyncLine? =
        state.value.let { s -> s.book?.let { lineWords.line(it, now, s.refreshing) } }

    fun start(waitSeconds: Int = 25) {
        mutable.update { it.copy(running = true) }
        book.startSync(waitSeconds.toUInt(), this)
    }

    fun stop() = book.stopSync()

    /** Ends the subscription (a test's book, a closed process). */
    fun close() = book.stopObservingSyncState()

    /**
     * Pull to refresh: one push and pull now, off the UI thread. A failure is not an error to
     * show on its own: the core keeps it in the status, and the line words it ("Offline — 3
     * changes waiting"). Returns whether the sync went through.
     */
    suspend fun syncNow(): Boolean {
        if (state.value.book?.paired != true) return false
        mutable.update { it.copy(refreshing = true) }
        return try {
            val report = withContext(io) { book.syncNow() }
            synced(report)
            true
        } catch (e: ApiException) {
            false
        } finally {
            mutable.update { it.copy(refreshing = false) }
        }
    }

    override fun syncStateChanged(state: SyncStateRec) {
        mutable.update { it.copy(book = state) }
    }

    override fun syncStatus(status: SyncStatusRec) {
        when (status) {
            is SyncStatusRec.Synced -> synced(status.report)
            is SyncStatusRec.Stopped -> mutable.update { it.copy(running = false) }
            // Pages and failures reach the line through the book's status.
            is SyncStatusRec.Progress, is SyncStatusRec.Failed -> {}
        }
    }

    private fun synced(report: SyncReportRec) {
        val merged = report.concurrent.toInt()
        val moved = alertsMoved(report.staffAlertsMoved)
        mutable.update { s ->
            s.copy(
                conflictsResolved = s.conflictsResolved + merged,
                notice = moved ?: if (merged > 0) words.plural("sync.merged", merged.toLong()) else s.notice,
            )
        }
    }

    /**
     * A staff member's Telegram link was opened in another chat (issue 25): whoever holds that
     * chat now gets their alerts, so every phone of the business says so, by name.
     */
    private fun alertsMoved(staffIds: List<String>): String? {
        if (staffIds.isEmpty()) return null
        val names = runCatching { book.staff() }.getOrDefault(emptyList()).associate { it.id to it.name }
        return words.format("sync.alerts_moved", staffIds.joinToString(", ") { names[it] ?: it })
    }

    fun noticeShown() {
        mutable.update { it.copy(notice = null) }
    }
}

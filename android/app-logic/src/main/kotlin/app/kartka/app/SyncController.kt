package app.kartka.app

import app.kartka.core.ClientBook
import app.kartka.core.SyncStatusListener
import app.kartka.core.SyncStatusRec
import java.time.Instant
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

/** What the sync line at the top of the app shows. */
data class SyncState(
    val running: Boolean = false,
    /** "Syncing… 1,200 received" while a long first sync runs. */
    val progress: String? = null,
    val lastSynced: Instant? = null,
    val lastError: String? = null,
    /** Sum over this session of documents edited here and elsewhere at once, merged. */
    val conflictsResolved: Int = 0,
    /** Shown once after a sync that merged concurrent edits. */
    val notice: String? = null,
)

/**
 * The foreground sync loop while the app is open: the core's loop thread long-polls the
 * server and backs off when offline; this class turns its reports into [SyncState]. Android
 * starts it in `onStart` of the first visible Activity and stops it in `onStop` of the last;
 * the periodic background job (JobScheduler) calls `syncNow` instead.
 */
class SyncController(
    private val book: ClientBook,
    private val words: Strings = Strings.device(),
    private val clock: () -> Instant = Instant::now,
) : SyncStatusListener {
    private val mutable = MutableStateFlow(SyncState())
    val state: StateFlow<SyncState> = mutable.asStateFlow()

    fun start(waitSeconds: Int = 25) {
        mutable.value = mutable.value.copy(running = true)
        book.startSync(waitSeconds.toUInt(), this)
    }

    fun stop() = book.stopSync()

    override fun syncStatus(status: SyncStatusRec) {
        val s = mutable.value
        mutable.value = when (status) {
            is SyncStatusRec.Progress -> s.copy(progress = words.format("sync.progress", status.soFar.pulled))
            is SyncStatusRec.Synced -> {
                val merged = status.report.concurrent.toInt()
                s.copy(
                    progress = null,
                    lastSynced = clock(),
                    lastError = null,
                    conflictsResolved = s.conflictsResolved + merged,
                    notice = alertsMoved(status.report.staffAlertsMoved)
                        ?: if (merged > 0) words.plural("sync.merged", merged.toLong()) else s.notice,
                )
            }
            is SyncStatusRec.Failed -> s.copy(progress = null, lastError = status.error)
            is SyncStatusRec.Stopped -> s.copy(running = false, progress = null)
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
        mutable.value = mutable.value.copy(notice = null)
    }
}

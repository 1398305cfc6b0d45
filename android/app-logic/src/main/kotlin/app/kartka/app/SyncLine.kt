package app.kartka.app

import app.kartka.core.ReceivingRec
import app.kartka.core.SyncLink
import app.kartka.core.SyncProblemKind
import app.kartka.core.SyncStateRec
import java.time.Duration
import java.time.Instant

/** How loud the line is: the screens colour it (quiet grey, amber while edits wait offline, red when refused). */
enum class SyncTone { QUIET, BUSY, WAITING, PROBLEM }

/** The quiet status line on the client list and the card. */
data class SyncLine(val text: String, val tone: SyncTone)

/**
 * Words the line says for the book's sync status ([SyncStateRec], from the core's observable),
 * in the master's language: "Synced 2 min ago", "Offline — 3 changes waiting · Server
 * unreachable", "Receiving 12,000 of 50,000 clients", "Not paired — nothing leaves this phone".
 *
 * [moment] writes an instant older than a day ("1 December 2026, 10:00") through the core, on
 * the business's clock; null when it cannot (a book with no business yet), and the day is
 * written as ISO instead.
 */
class SyncLineWords(private val words: Strings, private val moment: (String) -> String? = { null }) {
    /** [refreshing]: the master pulled to refresh and that sync is still out. */
    fun line(state: SyncStateRec, now: Instant, refreshing: Boolean = false): SyncLine {
        val problem = state.lastError
        // A revoked phone's book was wiped, pairing and all: say why before "not paired".
        if (problem?.kind == SyncProblemKind.REVOKED) return SyncLine(words["sync.problem.revoked"], SyncTone.PROBLEM)
        if (!state.paired) return SyncLine(words["sync.not_paired"], SyncTone.QUIET)
        state.receiving?.let { r ->
            val text = receiving(r)
            return if (problem != null && !state.syncing) {
                SyncLine("$text · ${problemWords(problem.kind)}", tone(problem.kind))
            } else {
                SyncLine(text, SyncTone.BUSY)
            }
        }
        val offline = state.link is SyncLink.Offline
        // `syncing` is also true while the foreground loop long-polls the server for news made
        // elsewhere (most of the time the app is open): only a sync that sends edits, or the
        // first one, or one the master asked for, reads "Syncing…"; a retry while offline
        // keeps saying offline rather than flickering.
        if (refreshing || state.syncing && !offline && (state.pending > 0u || state.lastSyncedAt == null)) {
            return SyncLine(words["sync.syncing"], SyncTone.BUSY)
        }
        val waiting = state.pending.takeIf { it > 0u }?.let { words.count("sync.waiting", it.toLong()) }
        if (problem != null) {
            val kind = problemWords(problem.kind)
            return if (isOffline(problem.kind)) {
                val head = waiting?.let { words.format("sync.offline_with", it) } ?: words["sync.offline"]
                SyncLine("$head · $kind", tone(problem.kind).takeIf { waiting != null } ?: SyncTone.QUIET)
            } else {
                SyncLine(listOfNotNull(kind, waiting).joinToString(" · "), SyncTone.PROBLEM)
            }
        }
        val synced = state.lastSyncedAt?.let { words.format("sync.synced", ago(it, now)) } ?: words["sync.not_synced"]
        return SyncLine(listOfNotNull(synced, waiting).joinToString(" · "), SyncTone.QUIET)
    }

    /** "just now", "2 min ago", "3 hours ago"; a day or more ago, the moment itself. */
    fun ago(at: String, now: Instant): String {
        val then = runCatching { Instant.parse(at) }.getOrNull() ?: return at
        val d = Duration.between(then, now).coerceAtLeast(Duration.ZERO)
        return when {
            d.toMinutes() < 1 -> words["sync.ago.now"]
            d.toHours() < 1 -> words.count("sync.ago.min", d.toMinutes())
            d.toDays() < 1 -> words.count("sync.ago.hours", d.toHours())
            else -> moment(at) ?: at.take(10)
        }
    }

    private fun receiving(r: ReceivingRec): String {
        val total = r.total
        return when {
            total != null && total > 0u ->
                words.format("sync.receiving_of.${Strings.pluralForm(words.language, total.toLong())}",
                    words.number(r.received.toLong()), words.number(total.toLong()))
            r.received > 0u -> words.format("sync.receiving_so_far", words.number(r.received.toLong()))
            else -> words["sync.receiving"]
        }
    }

    fun problemWords(kind: SyncProblemKind): String = words["sync.problem.${kind.key}"]

    private fun tone(kind: SyncProblemKind) = if (isOffline(kind)) SyncTone.WAITING else SyncTone.PROBLEM

    companion object {
        /** The server was not there (the core's `ProblemKind::is_offline`): edits wait, nothing is wrong. */
        fun isOffline(kind: SyncProblemKind) =
            kind == SyncProblemKind.UNREACHABLE || kind == SyncProblemKind.TIMED_OUT || kind == SyncProblemKind.CONNECTION_LOST
    }
}

/** The core's stable name of a kind (`timed_out`), which the string tables key on. */
val SyncProblemKind.key: String get() = name.lowercase()

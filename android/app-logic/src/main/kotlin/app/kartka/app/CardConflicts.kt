package app.kartka.app

import app.kartka.core.ApiException
import app.kartka.core.ClientBook
import app.kartka.core.ConflictRec
import app.kartka.core.ConflictValueRec

/**
 * Edits made on two phones at once, as the client card shows them (issue 24). The core finds
 * the conflicts and settles them (`client_conflicts`, `settle_conflict`); this only words
 * them: which field, each value and whose phone wrote it, and the one-step choices. Kept out
 * of ClientCard.kt so the card's view-model only asks for these and settles.
 */
data class ConflictChoice(
    /** Give it back to [ClientCardViewModel.settleConflict]. */
    val index: UInt,
    /** «Anna Koval» — this phone (shown now). */
    val line: String,
    /** "Keep this"; [describe] says which for TalkBack. */
    val keep: String,
    val describe: String,
)

data class CardConflict(
    /** The core's field key (`name`, `phones`, `visit-time:<id>`…). */
    val field: String,
    /** "2 phones changed the name while apart". */
    val title: String,
    val choices: List<ConflictChoice>,
    /** "Keep both numbers": phones only; settles with every number. */
    val keepAll: String?,
)

/** The card's conflicts in [s]'s words; a visit's time in the business's zone, by the core. */
fun cardConflicts(book: ClientBook, clientId: String, s: Strings = Strings.device()): List<CardConflict> {
    val conflicts = book.clientConflicts(clientId)
    if (conflicts.isEmpty()) return emptyList()
    val visits by lazy { book.clientVisits(clientId).associateBy { it.id } }
    return conflicts.map { c ->
        val what = when (c.kind) {
            "visit_time" -> visits[c.visitId]?.services?.joinToString { it.name }?.ifEmpty { null }
                ?.let { s.format("conflict.field.visit_time", it) } ?: s["conflict.field.visit"]
            else -> s["conflict.field.${c.kind}"]
        }
        val n = c.values.size.toLong()
        CardConflict(
            field = c.field,
            title = s.format("conflict.changed.${Strings.pluralForm(s.language, n)}", n, what),
            choices = c.values.mapIndexed { i, v ->
                val shown = valueText(book, c, v, s)
                val line = s.format("conflict.value", shown, author(v, s)) +
                    if (c.current?.toInt() == i) " (${s["conflict.shown"]})" else ""
                ConflictChoice(i.toUInt(), line, s["conflict.keep"], s.format("conflict.keep_value", shown))
            },
            keepAll = if (c.canKeepAll) s[if (c.values.size == 2) "conflict.keep_both" else "conflict.keep_all"] else null,
        )
    }
}

/**
 * Settles one conflict; one settled on another phone meanwhile is no longer there to settle,
 * which is what the master wanted anyway: the card just reloads.
 */
fun settleCardConflict(book: ClientBook, clientId: String, field: String, keep: UInt?) {
    try {
        book.settleConflict(clientId, field, keep)
    } catch (_: ApiException.NoConflict) {
    }
}

private fun valueText(book: ClientBook, c: ConflictRec, v: ConflictValueRec, s: Strings): String =
    v.time?.let { book.formatMoment(it, s.language) } ?: when (c.kind) {
        "phones" -> v.phones.joinToString(", ")
        else -> v.display
    }.ifEmpty { s["conflict.empty"] }

private fun author(v: ConflictValueRec, s: Strings): String = when {
    v.byThisDevice -> s["conflict.this_phone"]
    v.byName != null -> s.format("conflict.their_phone", v.byName)
    else -> s["conflict.other_phone"]
}

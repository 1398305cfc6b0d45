package app.kartka.app

import app.kartka.core.ClientBook
import app.kartka.core.ContactRec
import app.kartka.core.PreviewItemRec
import kotlinx.coroutines.CoroutineDispatcher

data class ImportRow(val item: PreviewItemRec, val picked: Boolean) {
    /** Duplicates are already in the book and cannot be picked. */
    val pickable: Boolean get() = item.status == "new" || item.status == "merge_candidate"
}

data class ImportState(
    val rows: List<ImportRow> = emptyList(),
    val new: Int = 0,
    val duplicate: Int = 0,
    val mergeCandidate: Int = 0,
    val invalid: Int = 0,
    val imported: List<String>? = null,
    val error: String? = null,
)

/**
 * Import from the phone book: the app reads contacts (the system picker's choice, or all of
 * them with READ_CONTACTS granted), the core previews them against the book, the master picks
 * rows, and the picked ones are imported in one transaction. New rows start picked; merge
 * candidates (same name, other number) start unpicked, for the master to decide.
 */
class ImportViewModel(
    private val book: ClientBook,
    io: CoroutineDispatcher,
) : Screen<ImportState>(ImportState(), io) {
    private var contacts: List<ContactRec> = emptyList()

    suspend fun preview(contacts: List<ContactRec>) {
        this.contacts = contacts
        val p = call({ s, m -> s.copy(error = m) }) { book.previewImport(contacts) } ?: return
        update {
            ImportState(
                rows = p.items.map { ImportRow(it, picked = it.status == "new") },
                new = p.new.toInt(),
                duplicate = p.duplicate.toInt(),
                mergeCandidate = p.mergeCandidate.toInt(),
                invalid = p.invalid.toInt(),
            )
        }
    }

    fun toggle(row: UInt) = update { s ->
        s.copy(rows = s.rows.map { if (it.item.row == row && it.pickable) it.copy(picked = !it.picked) else it })
    }

    val pickedCount: Int get() = state.value.rows.count { it.picked }

    suspend fun importPicked() {
        val picked = state.value.rows.filter { it.picked }.map { it.item.row }
        if (picked.isEmpty()) return
        val ids = call({ s, m -> s.copy(error = m) }) { book.importContacts(contacts, picked) } ?: return
        update { it.copy(imported = ids) }
    }
}

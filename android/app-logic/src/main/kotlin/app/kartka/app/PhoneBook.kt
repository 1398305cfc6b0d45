package app.kartka.app

import app.kartka.core.ContactPhoneRec
import app.kartka.core.ContactRec

/**
 * One row of Android's `ContactsContract.Data` table, as the app's reader copies it out of the
 * cursor: the raw contact it belongs to, its MIME type and the generic DATA1…DATA5 columns
 * whose meaning depends on the type. Kept as plain strings so the mapping below runs (and is
 * tested) on the JVM, away from the Android SDK.
 */
data class ContactDataRow(
    val contactId: Long,
    val mimetype: String,
    val data1: String? = null,
    val data2: String? = null,
    val data3: String? = null,
    val data5: String? = null,
    /** `ContactsContract.RawContacts.ACCOUNT_TYPE`, e.g. `com.google`, `com.whatsapp`. */
    val accountType: String? = null,
    /** `Contacts.DISPLAY_NAME_PRIMARY`. */
    val displayName: String? = null,
    /** `Contacts.LOOKUP_KEY`: stable across the phone book's own re-indexing. */
    val lookupKey: String? = null,
)

/** The MIME types and type codes of `ContactsContract.CommonDataKinds` the import reads. */
object AndroidContacts {
    const val NAME = "vnd.android.cursor.item/name"
    const val PHONE = "vnd.android.cursor.item/phone_v2"
    const val EMAIL = "vnd.android.cursor.item/email_v2"
    const val EVENT = "vnd.android.cursor.item/contact_event"
    const val NOTE = "vnd.android.cursor.item/note"

    /** `Phone.TYPE_*` → the label the core keeps (`TYPE_CUSTOM` uses LABEL, in DATA3). */
    fun phoneLabel(type: String?, custom: String?): String = when (type?.toIntOrNull()) {
        0 -> custom?.trim().orEmpty().ifEmpty { "other" }
        1 -> "home"
        2 -> "mobile"
        3 -> "work"
        4, 5, 13 -> "fax"
        6 -> "pager"
        12 -> "main"
        17 -> "work mobile"
        else -> "other"
    }

    /** `Event.TYPE_BIRTHDAY`. */
    const val EVENT_BIRTHDAY = 3
}

/**
 * Folds the data rows of the phone book into one [ContactRec] per contact, in the order the
 * contacts first appear. Numbers keep the form they were stored in (the core parses them with
 * the business's region); a number stored twice on one contact (SIM and Google copies) is kept
 * once. Contacts with neither a name nor a number nor an email are dropped: they import as
 * nothing.
 */
fun contactsFromRows(rows: List<ContactDataRow>): List<ContactRec> {
    class Acc(val first: ContactDataRow) {
        var given: String? = null
        var family: String? = null
        val phones = LinkedHashMap<String, ContactPhoneRec>()
        val emails = LinkedHashSet<String>()
        var birthday: String? = null
        var note: String? = null
    }
    val byContact = LinkedHashMap<Long, Acc>()
    for (r in rows) {
        val acc = byContact.getOrPut(r.contactId) { Acc(r) }
        when (r.mimetype) {
            AndroidContacts.NAME -> {
                // StructuredName: DATA2 given, DATA3 family.
                acc.given = acc.given ?: r.data2?.trim()?.ifEmpty { null }
                acc.family = acc.family ?: r.data3?.trim()?.ifEmpty { null }
            }
            AndroidContacts.PHONE -> {
                val number = r.data1?.trim().orEmpty()
                val key = number.filter { it.isDigit() || it == '+' }
                if (key.isNotEmpty() && key !in acc.phones) {
                    acc.phones[key] = ContactPhoneRec(number, AndroidContacts.phoneLabel(r.data2, r.data3))
                }
            }
            AndroidContacts.EMAIL -> r.data1?.trim()?.takeIf { it.contains('@') }?.let { acc.emails += it }
            AndroidContacts.EVENT -> if (r.data2?.toIntOrNull() == AndroidContacts.EVENT_BIRTHDAY) {
                acc.birthday = acc.birthday ?: r.data1?.trim()?.ifEmpty { null }
            }
            AndroidContacts.NOTE -> acc.note = acc.note ?: r.data1?.trim()?.ifEmpty { null }
        }
    }
    return byContact.values.mapNotNull { a ->
        val display = a.first.displayName?.trim()?.ifEmpty { null }
        if (display == null && a.given == null && a.family == null && a.phones.isEmpty() && a.emails.isEmpty()) {
            return@mapNotNull null
        }
        ContactRec(
            givenName = a.given,
            familyName = a.family,
            displayName = display,
            phones = a.phones.values.toList(),
            emails = a.emails.toList(),
            birthday = a.birthday,
            note = a.note,
            platformId = a.first.lookupKey ?: a.first.contactId.toString(),
            account = a.first.accountType,
        )
    }
}

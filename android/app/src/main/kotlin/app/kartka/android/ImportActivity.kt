package app.kartka.android

import android.Manifest
import android.content.ContentResolver
import android.content.Intent
import android.content.pm.PackageManager
import android.net.Uri
import android.os.Bundle
import android.provider.ContactsContract
import android.widget.CheckBox
import android.widget.LinearLayout
import app.kartka.app.ContactDataRow
import app.kartka.app.ImportViewModel
import app.kartka.app.contactsFromRows
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

/**
 * Import from the phone book. READ_CONTACTS is asked for at the moment the master taps
 * "Whole phone book", not at install; without it, the system contact picker still lets them
 * pick one contact (the picker grants access to that contact only).
 */
class ImportActivity : ScreenActivity() {
    private lateinit var vm: ImportViewModel

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        vm = ImportViewModel(kartka.book, kartka.io)
        page.addView(row(
            button(s["import.whole"]) {
                if (checkSelfPermission(Manifest.permission.READ_CONTACTS) == PackageManager.PERMISSION_GRANTED) readAll()
                else requestPermissions(arrayOf(Manifest.permission.READ_CONTACTS), ASK_CONTACTS)
            },
            button(s["import.pick_one"]) {
                startActivityForResult(Intent(Intent.ACTION_PICK, ContactsContract.Contacts.CONTENT_URI), PICK_CONTACT)
            },
        ))
        val summary = text()
        page.addView(summary)
        val list = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        page.addView(list)
        page.addView(button(s["import.picked"]) {
            vm.importPicked()
            vm.state.value.imported?.let { toast(s.plural("imported", it.size.toLong())); finish() }
        })
        vm.state.render { st ->
            summary.text = st.error ?: s.format("import.summary", st.new, st.duplicate, st.mergeCandidate, st.invalid)
            list.removeAllViews()
            for (r in st.rows) {
                list.addView(CheckBox(this).apply {
                    text = "${r.item.name ?: "—"} ${r.item.phones.joinToString()}\n${r.item.status.replace('_', ' ')}: ${r.item.reason}"
                    isChecked = r.picked
                    isEnabled = r.pickable
                    setOnClickListener { vm.toggle(r.item.row) }
                })
            }
        }
    }

    override fun onRequestPermissionsResult(code: Int, permissions: Array<String>, results: IntArray) {
        if (code == ASK_CONTACTS && results.firstOrNull() == PackageManager.PERMISSION_GRANTED) scope.launch { readAll() }
        else if (code == ASK_CONTACTS) toast(s["import.refused"])
    }

    @Deprecated("The framework's own result callback; the app uses no AndroidX")
    override fun onActivityResult(code: Int, result: Int, data: Intent?) {
        val uri = data?.data
        if (code == PICK_CONTACT && result == RESULT_OK && uri != null) scope.launch {
            val id = withContext(kartka.io) {
                contentResolver.query(uri, arrayOf(ContactsContract.Contacts._ID), null, null, null)?.use { c ->
                    if (c.moveToFirst()) c.getLong(0) else null
                }
            } ?: return@launch
            preview(ContactsContract.Data.CONTACT_ID + " = ?", arrayOf(id.toString()))
        }
    }

    private suspend fun readAll() = preview(null, null)

    private suspend fun preview(selection: String?, args: Array<String>?) {
        val rows = withContext(kartka.io) { ContactsReader.read(contentResolver, selection, args) }
        vm.preview(contactsFromRows(rows))
    }

    companion object {
        private const val ASK_CONTACTS = 1
        private const val PICK_CONTACT = 2
    }
}

/** Copies `ContactsContract.Data` rows out of the provider; the mapping is app-logic's. */
object ContactsReader {
    private val COLUMNS = arrayOf(
        ContactsContract.Data.CONTACT_ID,
        ContactsContract.Data.MIMETYPE,
        ContactsContract.Data.DATA1,
        ContactsContract.Data.DATA2,
        ContactsContract.Data.DATA3,
        ContactsContract.Data.DATA5,
        ContactsContract.RawContacts.ACCOUNT_TYPE,
        ContactsContract.Data.DISPLAY_NAME_PRIMARY,
        ContactsContract.Data.LOOKUP_KEY,
    )

    fun read(resolver: ContentResolver, selection: String?, args: Array<String>?): List<ContactDataRow> {
        val uri: Uri = ContactsContract.Data.CONTENT_URI
        val out = ArrayList<ContactDataRow>()
        resolver.query(uri, COLUMNS, selection, args, ContactsContract.Data.CONTACT_ID)?.use { c ->
            while (c.moveToNext()) {
                out += ContactDataRow(
                    contactId = c.getLong(0),
                    mimetype = c.getString(1) ?: continue,
                    data1 = c.getString(2),
                    data2 = c.getString(3),
                    data3 = c.getString(4),
                    data5 = c.getString(5),
                    accountType = c.getString(6),
                    displayName = c.getString(7),
                    lookupKey = c.getString(8),
                )
            }
        }
        return out
    }
}

package app.kartka.android

import android.Manifest
import android.app.AlertDialog
import android.app.TimePickerDialog
import android.app.job.JobParameters
import android.content.ContentProvider
import android.content.ContentValues
import android.content.Intent
import android.content.pm.PackageManager
import android.database.Cursor
import android.database.MatrixCursor
import android.net.Uri
import android.provider.ContactsContract
import android.widget.CheckBox
import app.kartka.app.AndroidContacts
import app.kartka.app.LoopbackServer
import app.kartka.app.PairingCode
import app.kartka.core.ClientBook
import app.kartka.core.NewClientRec
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowToast
import java.nio.file.Files
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue

/** The rest of a master's day: the phone book, the agenda, a second phone, the inbox. */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35], application = KartkaTestApp::class, qualifiers = PHONE)
class DayFlowTest {
    private val app get() = RuntimeEnvironment.getApplication() as KartkaApp

    @Test
    fun thePhoneBookIsImportedWithReadContactsAndRefusedWithoutIt() {
        cardOf("Олена Коваленко", "067 123 45 67").finish()
        Robolectric.setupContentProvider(PhoneBookProvider::class.java, ContactsContract.AUTHORITY)

        // Refused: nothing is read, and the master is told the way that still works.
        val refused = Robolectric.buildActivity(ImportActivity::class.java).setup().get()
        tap(refused.button("Whole phone book"))
        val ask = shadowOf(refused).lastRequestedPermission
        assertEquals(listOf(Manifest.permission.READ_CONTACTS), ask.requestedPermissions.toList())
        refused.onRequestPermissionsResult(ask.requestCode, ask.requestedPermissions, intArrayOf(PackageManager.PERMISSION_DENIED))
        assertEquals("Without access to contacts, pick them one at a time", ShadowToast.getTextOfLatestToast())
        assertTrue(refused.root().tree().filterIsInstance<CheckBox>().none())

        // Granted: a preview against the book, new rows picked, the one already in it not.
        shadowOf(app).grantPermissions(Manifest.permission.READ_CONTACTS)
        val import = Robolectric.buildActivity(ImportActivity::class.java).setup().get()
        tap(import.button("Whole phone book"))
        import.waitFor("2 new · 1 already in the book")
        val rows = import.root().tree().filterIsInstance<CheckBox>().toList()
        assertEquals(3, rows.size)
        val dup = rows.single { it.text.startsWith("Олена") }
        assertFalse(dup.isEnabled, "a duplicate cannot be picked")
        val andrii = rows.single { it.text.startsWith("Андрій") }
        assertTrue(andrii.isChecked)
        tap(andrii) // the master leaves Andrii out
        tap(import.button("Import picked"))
        settle("the import") { import.isFinishing }
        assertEquals("1 client imported", ShadowToast.getTextOfLatestToast())
        val names = app.book.findClients("", null, null, 0u, 50u).map { it.name }.sorted()
        assertEquals(listOf("Zofia Nowak", "Олена Коваленко"), names)
    }

    @Test
    fun aVisitIsBookedFromTheCardMovedAndCompletedInTheAgenda() {
        val card = cardOf("Олена Коваленко", "067 123 45 67")
        tap(card.button("Book a visit"))
        val form = dialog()
        type(form.root().field("Service"), "Манікюр")
        type(form.root().field("Price"), "800")
        tap(form.getButton(AlertDialog.BUTTON_POSITIVE))
        card.waitFor("Манікюр · booked")

        val agenda = Robolectric.buildActivity(AgendaActivity::class.java).setup().get()
        agenda.waitFor(dayHeading(java.time.LocalDate.now(), "en"))
        tap(agenda.button("›")) // the visit is tomorrow
        agenda.waitFor("10:00–11:00  Олена Коваленко")
        agenda.waitFor("Манікюр · 800,00\u00a0₴ · due 800,00\u00a0₴ · booked")

        tap(agenda.textStarting("10:00"))
        shadowOf(dialog()).clickOnItem(4) // Move…
        val time = settleOn<TimePickerDialog>()
        time.updateTime(12, 30)
        tap(time.getButton(AlertDialog.BUTTON_POSITIVE))
        agenda.waitFor("12:30–13:30  Олена Коваленко")

        tap(agenda.textStarting("12:30"))
        shadowOf(dialog()).clickOnItem(1) // Completed
        agenda.waitFor("· completed")
    }

    @Test
    fun pairedFromSettingsTheSyncJobBringsACardMadeOnASecondPhone() = LoopbackServer().use { server ->
        studio("Олена Коваленко", "067 123 45 67")
        val settings = Robolectric.buildActivity(SettingsActivity::class.java).setup()
        val s = settings.get()
        type(s.field("Server, e.g. https://sync.example.com"), server.url)
        tap(s.button("Create business on server"))
        s.waitFor("Paired with ${server.url}")
        tap(s.button("Invite another phone"))
        s.waitFor("kartka://pair?")
        val qr = s.textStarting("Code ").text.lines().last()
        // The app goes to the background: its foreground loop ends, the job syncs from now on.
        settings.pause().stop().destroy()
        settle("the foreground loop to stop") { !app.sync.state.value.running }

        // The second phone joins with the QR code and adds a client.
        val other = ClientBook.open(Files.createTempDirectory("kartka-b").resolve("book.db").toString())
        val code = PairingCode.parse(qr)!!
        other.pairJoin(code.server!!, code.code, "Phone B")
        other.syncNow()
        other.addClient(NewClientRec("Марія Шевченко", listOf("050 765 43 21"), null, null, null, null, emptyList()))
        other.syncNow()
        assertTrue(app.book.findClients("Марія", null, null, 0u, 10u).isEmpty())

        val job = Robolectric.buildService(SyncJobService::class.java).create().get()
        assertTrue(job.onStartJob(jobParameters()), "a paired book has work to do")
        settle("the sync job to finish") { shadowOf(job).isJobFinished }
        assertFalse(shadowOf(job).isRescheduleNeeded)

        val list = Robolectric.buildActivity(ClientListActivity::class.java).setup().get()
        list.waitFor("Марія Шевченко")
        list.waitFor("Олена Коваленко")
    }

    @Test
    fun aReplySentThroughTheBusinessOpensAConversationInTheInbox() {
        val id = studio("Олена Коваленко", "067 123 45 67")
        app.book.setConsent(id, "sms", true, "written", "анкета")
        val c = openCard(id, "Олена Коваленко")
        type(c.field("Text"), "Так, чекаю о 15:00")
        tap(c.button("Send via the business"))
        shadowOf(dialog()).clickOnItem(0) // SMS
        c.waitFor("→ ")
        c.waitFor("queued")

        val inbox = Robolectric.buildActivity(InboxActivity::class.java).setup().get()
        tap(inbox.button("All"))
        inbox.waitFor("Олена Коваленко · open")
        inbox.waitFor("→ SMS: Так, чекаю о 15:00")
        tap(inbox.button("Close"))
        inbox.waitFor("Олена Коваленко · closed")
        tap(inbox.textStarting("Олена Коваленко"))
        assertEquals(ClientCardActivity::class.java.name, inbox.started().component?.className)
    }
}

inline fun <reified D : android.app.Dialog> settleOn(): D {
    var d: D? = null
    settle("a ${D::class.java.simpleName}") { d = org.robolectric.shadows.ShadowDialog.getLatestDialog() as? D; d?.isShowing == true }
    return d!!
}

/**
 * JobParameters has no public constructor (the system makes them); its one hidden constructor
 * is called with empty values, which is what a job without extras or triggers gets.
 */
fun jobParameters(): JobParameters {
    val ctor = JobParameters::class.java.declaredConstructors.maxBy { it.parameterCount }
    ctor.isAccessible = true
    val args: List<Any?> = ctor.parameterTypes.map {
        when (it) {
            Int::class.javaPrimitiveType -> 0
            Boolean::class.javaPrimitiveType -> false
            Long::class.javaPrimitiveType -> 0L
            else -> null
        }
    }
    return ctor.newInstance(*args.toTypedArray()) as JobParameters
}

/**
 * The phone book's edge: `ContactsContract.Data` rows as the contacts provider returns them,
 * registered under its authority with Robolectric's ContentProvider support. The app's
 * [ContactsReader] queries it through the real ContentResolver.
 */
class PhoneBookProvider : ContentProvider() {
    override fun onCreate() = true

    override fun query(uri: Uri, projection: Array<String>?, selection: String?, args: Array<String>?, sort: String?): Cursor {
        val c = MatrixCursor(projection!!)
        fun row(id: Long, mime: String, d1: String?, d2: String? = null, d3: String? = null, name: String) {
            c.addRow(projection.map {
                when (it) {
                    ContactsContract.Data.CONTACT_ID -> id
                    ContactsContract.Data.MIMETYPE -> mime
                    ContactsContract.Data.DATA1 -> d1
                    ContactsContract.Data.DATA2 -> d2
                    ContactsContract.Data.DATA3 -> d3
                    ContactsContract.Data.DISPLAY_NAME_PRIMARY -> name
                    ContactsContract.Data.LOOKUP_KEY -> "lk$id"
                    else -> null
                }
            })
        }
        row(1, AndroidContacts.NAME, "Олена Коваленко", "Олена", "Коваленко", name = "Олена Коваленко")
        row(1, AndroidContacts.PHONE, "067 123 45 67", "2", name = "Олена Коваленко")
        row(2, AndroidContacts.NAME, "Андрій Бондар", "Андрій", "Бондар", name = "Андрій Бондар")
        row(2, AndroidContacts.PHONE, "+380 93 555 12 12", "2", name = "Андрій Бондар")
        row(3, AndroidContacts.NAME, "Zofia Nowak", "Zofia", "Nowak", name = "Zofia Nowak")
        row(3, AndroidContacts.PHONE, "+48 601 234 567", "2", name = "Zofia Nowak")
        return c
    }

    override fun getType(uri: Uri): String? = null
    override fun insert(uri: Uri, values: ContentValues?): Uri? = null
    override fun delete(uri: Uri, selection: String?, args: Array<String>?) = 0
    override fun update(uri: Uri, values: ContentValues?, selection: String?, args: Array<String>?) = 0
}

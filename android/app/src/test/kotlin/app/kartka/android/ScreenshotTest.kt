package app.kartka.android

import android.app.Activity
import android.graphics.Bitmap
import android.graphics.Canvas
import android.view.View
import app.kartka.app.AgendaViewModel
import app.kartka.app.LoopbackServer
import app.kartka.app.SetupViewModel
import app.kartka.core.ClientBook
import app.kartka.core.ClientPatchRec
import app.kartka.core.SyncStateListener
import app.kartka.core.SyncStateRec
import app.kartka.core.NewClientRec
import app.kartka.core.ServiceRec
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config
import org.robolectric.annotation.GraphicsMode
import java.io.File
import kotlin.test.assertTrue

/**
 * Every screen drawn by Android's own renderer (Robolectric's native graphics: the real
 * Skia-backed Canvas for Linux x86_64) at a phone's 1080 × 2400 pixels. Each picture is
 * checked to hold drawn text, not a blank page; with `kartka.screens.dir` set (scripts/screens)
 * the PNGs are written there.
 */
@RunWith(RobolectricTestRunner::class)
@GraphicsMode(GraphicsMode.Mode.NATIVE)
@Config(sdk = [35], application = KartkaTestApp::class)
class ScreenshotTest {
    private val app get() = RuntimeEnvironment.getApplication() as KartkaApp

    @Test @Config(qualifiers = "uk-$PHONE")
    fun everyScreenInUkrainian() {
        shoot(Robolectric.buildActivity(SetupActivity::class.java).setup().get(), "uk-setup", "Назва студії".let { "Почати" })
        val ids = sampleBook()
        shoot(Robolectric.buildActivity(ClientListActivity::class.java).setup().get(), "uk-list", "Олена Коваленко")
        shoot(openCard(ids.first(), "Олена Коваленко"), "uk-card", "Олена Коваленко")
        val agenda = Robolectric.buildActivity(AgendaActivity::class.java).setup().get()
        agenda.waitFor(dayHeading(java.time.LocalDate.now(), "uk"))
        tap(agenda.button("›"))
        shoot(agenda, "uk-agenda", "Олена Коваленко")
        val inbox = Robolectric.buildActivity(InboxActivity::class.java).setup().get()
        tap(inbox.button("Усі"))
        shoot(inbox, "uk-inbox", "Олена Коваленко")
        shoot(Robolectric.buildActivity(MessageLogActivity::class.java).setup().get(), "uk-messages", "Олена Коваленко")
        shoot(Robolectric.buildActivity(ImportActivity::class.java).setup().get(), "uk-import", null)
        shoot(Robolectric.buildActivity(SettingsActivity::class.java).setup().get(), "uk-settings", "Студія")
    }

    /** Issue 24: a card two phones changed apart, the real conflict made through a real server. */
    @Test @Config(qualifiers = "uk-$PHONE")
    fun aCardChangedOnTwoPhonesInUkrainian() = LoopbackServer().use { server ->
        val id = studio("Олена Коваленко", "067 123 45 67")
        changedOnTwoPhones(server, id)
        val card = Robolectric.buildActivity(ClientCardActivity::class.java, android.content.Intent().putExtra("client", id)).setup().get()
        shoot(card, "uk-card-conflict", "«Олена Ковальова» — телефон «Olena»")
    }

    @Test @Config(qualifiers = "en-$PHONE")
    fun listAndCardInEnglishLight() = listAndCard("en-light")

    @Test @Config(qualifiers = "en-w411dp-h914dp-night-420dpi")
    fun listAndCardInEnglishDark() = listAndCard("en-dark")

    private fun listAndCard(name: String) {
        val ids = sampleBook()
        shoot(Robolectric.buildActivity(ClientListActivity::class.java).setup().get(), "$name-list", "Олена Коваленко")
        shoot(openCard(ids.first(), "Олена Коваленко"), "$name-card", "Олена Коваленко")
    }

    /**
     * The sync line in each state a master meets, each produced for real: a book never paired;
     * paired with a real server and synced; that server SIGKILLed and three edits made, one
     * sync tried; and (below) a fresh phone mid-way through its first sync.
     */
    @Test @Config(qualifiers = "en-$PHONE")
    fun theSyncLineInEachState() = LoopbackServer().use { server ->
        val ids = sampleBook()
        val list = Robolectric.buildActivity(ClientListActivity::class.java).setup().get()
        shoot(list, "en-sync-not-paired", "Not paired — nothing leaves this phone")
        app.book.pairCreateBusiness(server.url, "Phone A")
        app.book.syncNow()
        shoot(list, "en-sync-synced", "Synced just now")
        server.kill()
        app.book.updateClient(ids[0], ClientPatchRec(comment = "алергія на латекс"))
        app.book.addClient(NewClientRec("Андрій Мельник", listOf("063 222 33 44"), null, null, null, null, emptyList()))
        app.book.addClient(NewClientRec("Katarzyna Wójcik", listOf("+48 512 345 678"), null, null, null, null, emptyList()))
        kotlinx.coroutines.runBlocking { app.sync.syncNow() }
        shoot(list, "en-sync-offline", "Offline — 3 changes waiting · Server unreachable")
        shoot(openCard(ids[0], "алергія на латекс"), "en-sync-offline-card", "Offline — 3 changes waiting")
    }

    /**
     * A fresh phone joins a business of 150 clients from a server answering in 4 KB pages. Its
     * first sync runs on a thread of its own, as the app's would; a listener between the book
     * and the app's line passes every status on and holds the syncs (this thread's and the
     * foreground loop's) at a page a third of the way in, while the list is drawn with what has
     * arrived, then lets them finish.
     */
    @Test @Config(qualifiers = "en-$PHONE")
    fun theSyncLineWhileAFreshPhoneReceives() = LoopbackServer(limits = "pull_budget = 4096\nsync_per_second = 1000").use { server ->
        val first = ClientBook.open(java.nio.file.Files.createTempDirectory("kartka-a").resolve("book.db").toString())
        first.initBusiness(SetupViewModel.businessFor("Студія", java.util.Locale("uk", "UA"), "Europe/Kyiv"))
        val names = listOf("Олена", "Марія", "Ірина", "Оксана", "Наталія", "Тетяна", "Юлія", "Світлана", "Anna", "Zofia")
        val surnames = listOf("Коваленко", "Шевченко", "Бондаренко", "Ткаченко", "Кравченко", "Мельник", "Nowak", "Wójcik", "Lysenko", "Savchuk", "Petrenko", "Hnatiuk", "Moroz", "Kowalska", "Rudenko")
        for (i in 0 until 150) {
            first.addClient(NewClientRec("${names[i % names.size]} ${surnames[i / names.size]}", listOf("067 1%02d %02d %02d".format(i / 100, i % 100, i % 7)), null, null, null, null, emptyList()))
        }
        first.pairCreateBusiness(server.url, "Phone A")
        first.syncNow()

        app.book.pairJoin(server.url, first.invite().code, "Phone B")
        val held = java.util.concurrent.CountDownLatch(1)
        val release = java.util.concurrent.CountDownLatch(1)
        app.book.observeSyncState(object : SyncStateListener {
            override fun syncStateChanged(state: SyncStateRec) {
                app.sync.syncStateChanged(state)
                val r = state.receiving ?: return
                val total = r.total ?: return
                if (r.received >= total) return
                if (held.count == 1L && r.received * 3u >= total && app.hasBusiness()) held.countDown()
                // Every sync of this book waits here once held: the app's own foreground loop
                // starts with the list (the book is paired by then) and would finish the job.
                if (held.count == 0L) release.await(60, java.util.concurrent.TimeUnit.SECONDS)
            }
        })
        val sync = Thread { app.book.syncNow() }.apply { start() }
        try {
            assertTrue(held.await(60, java.util.concurrent.TimeUnit.SECONDS), "the first sync never got a third of the way")
            val list = Robolectric.buildActivity(ClientListActivity::class.java).setup().get()
            shoot(list, "en-sync-receiving", "Receiving ")
            assertTrue(list.texts().any { Regex("Receiving [0-9]+ of [0-9]+ clients").matches(it) }, "${list.texts()}")
        } finally {
            release.countDown()
            sync.join(60_000)
            app.book.observeSyncState(app.sync)
        }
        assertTrue(app.book.syncState().hasSynced)
    }

    /** A studio's book as it looks after a few weeks: clients, consent, visits, a reply. */
    private fun sampleBook(): List<String> {
        val olena = studio("Олена Коваленко", "067 123 45 67")
        val b = app.book
        b.setConsent(olena, "sms", true, "written", "анкета 12")
        b.setConsent(olena, "whatsapp", true, "client_reply", "")
        val others = listOf(
            NewClientRec("Марія Шевченко", listOf("050 765 43 21"), null, null, null, "vip", listOf("фарбування")),
            NewClientRec("Ірина Бондаренко", listOf("093 555 12 12"), "iryna@example.com", null, null, null, emptyList()),
            NewClientRec("Zofia Nowak", listOf("+48 601 234 567"), null, null, null, null, emptyList()),
        ).map { b.addClient(it).id }
        val agenda = AgendaViewModel(b, kotlinx.coroutines.Dispatchers.Unconfined)
        kotlinx.coroutines.runBlocking {
            agenda.create(olena, java.time.LocalDate.now().plusDays(1).atTime(10, 0), 90,
                listOf(ServiceRec("Манікюр", 80000, 1u), ServiceRec("Покриття гель-лак", 40000, 1u)), paid = 50000)
            agenda.create(others[0], java.time.LocalDate.now().plusDays(1).atTime(12, 30), 120,
                listOf(ServiceRec("Фарбування", 150000, 1u)))
        }
        b.recordMessage(olena, "sms", "Нагадуємо: завтра о 10:00 манікюр")
        b.reply(olena, "sms", "Так, чекаю о 10:00", null)
        return listOf(olena) + others
    }

    private fun shoot(activity: Activity, name: String, mustShow: String?) {
        mustShow?.let { activity.waitFor(it) }
        settle { true }
        val root = activity.window.decorView
        root.measure(View.MeasureSpec.makeMeasureSpec(WIDTH, View.MeasureSpec.EXACTLY), View.MeasureSpec.makeMeasureSpec(HEIGHT, View.MeasureSpec.EXACTLY))
        root.layout(0, 0, WIDTH, HEIGHT)
        touchable(root, name)
        val bitmap = Bitmap.createBitmap(WIDTH, HEIGHT, Bitmap.Config.ARGB_8888)
        root.draw(Canvas(bitmap))
        // Drawn text has anti-aliased edges: many colours. A blank or flat page has a few.
        val colours = HashSet<Int>()
        for (y in 0 until HEIGHT step 4) for (x in 0 until WIDTH step 4) colours += bitmap.getPixel(x, y)
        assertTrue(colours.size > 20, "$name looks blank: ${colours.size} colours")
        System.getProperty("kartka.screens.dir")?.takeIf { it.isNotBlank() }?.let { dir ->
            File(dir).mkdirs()
            File(dir, "$name.png").outputStream().use { bitmap.compress(Bitmap.CompressFormat.PNG, 100, it) }
        }
    }

    /**
     * What the Accessibility Test Framework would check first, done by hand (ATF is on Google's
     * Maven repository only, not Maven Central): every control a finger can press is at least
     * 48 dp tall, and one without words (an arrow, a star) says what it does to TalkBack.
     */
    private fun touchable(root: View, name: String) {
        val density = root.resources.displayMetrics.density
        for (v in root.tree().filter { it.isShown && (it.isClickable || it is android.widget.CompoundButton) }) {
            if (v.javaClass.name.startsWith("com.android.internal")) continue // the framework's own action bar
            // An empty field is read out by its hint.
            val label = (v as? android.widget.TextView)?.let { t -> t.text?.toString()?.ifEmpty { null } ?: t.hint?.toString() }.orEmpty()
            assertTrue(v.height / density >= 47.5f, "$name: \"$label\" is ${v.height / density} dp tall")
            if (label.none { it.isLetterOrDigit() }) {
                assertTrue(!v.contentDescription.isNullOrBlank(), "$name: \"$label\" has no content description")
            }
        }
    }

    companion object {
        const val WIDTH = 1080
        const val HEIGHT = 2400
    }
}

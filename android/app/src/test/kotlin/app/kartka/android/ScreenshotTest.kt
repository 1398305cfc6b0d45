package app.kartka.android

import android.app.Activity
import android.graphics.Bitmap
import android.graphics.Canvas
import android.view.View
import app.kartka.app.AgendaViewModel
import app.kartka.app.LoopbackServer
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

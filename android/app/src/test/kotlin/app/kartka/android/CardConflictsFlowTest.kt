package app.kartka.android

import android.content.Intent
import android.widget.Button
import app.kartka.app.LoopbackServer
import app.kartka.core.ClientBook
import app.kartka.core.ClientPatchRec
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config
import java.nio.file.Files
import kotlin.test.assertEquals
import kotlin.test.fail

/**
 * Edits made on two phones at once, on the real card Activity (issue 24): the app's book and a
 * second phone's change one client apart and sync through a real kartka-server; the card shows
 * both values with whose phone wrote them, and a tap settles each.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35], application = KartkaTestApp::class, qualifiers = PHONE)
class CardConflictsFlowTest {
    private val app get() = RuntimeEnvironment.getApplication() as KartkaApp

    @Test
    fun theCardShowsWhoChangedWhatAndKeepThisSettlesIt() = LoopbackServer().use { server ->
        val id = studio("Олена Коваленко", "067 123 45 67")
        val other = changedOnTwoPhones(server, id)
        val card = Robolectric.buildActivity(ClientCardActivity::class.java, Intent().putExtra("client", id)).setup().get()
        card.waitFor("Edits made on two phones at once")
        card.waitFor("2 phones changed the name while apart")
        card.waitFor("«Олена Коваленко-Шевчук» — this phone")
        card.waitFor("«Олена Ковальова» — Olena's phone")
        card.waitFor("2 phones changed the phone numbers while apart")

        tap(card.keep("Keep «Олена Ковальова»"))
        settle("the name conflict to go") { card.texts().none { it.startsWith("2 phones changed the name") } }
        card.waitFor("Олена Ковальова")
        tap(card.button("Keep both numbers"))
        settle("the section to go") { card.texts().none { it == "Edits made on two phones at once" } }
        card.waitFor("067 765 43 21")
        card.waitFor("050 111 22 33")

        app.book.syncNow()
        other.syncNow()
        assertEquals(emptyList(), other.clientConflicts(id))
        assertEquals("Олена Ковальова", other.getClient(id).name)
    }
}

/** The "Keep this" beside a value, found the way TalkBack reads it. */
fun android.app.Activity.keep(describe: String): Button =
    root().tree().filterIsInstance<Button>().firstOrNull { it.isShown && it.contentDescription == describe }
        ?: fail("no button \"$describe\" among ${root().tree().filterIsInstance<Button>().map { it.contentDescription }.toList()}")

/**
 * The app's book paired on [server] with a second phone ("Olena"); apart, this phone renames
 * the client and adds a number, Olena's renames them otherwise and replaces the number; both
 * synced. Returns Olena's book.
 */
fun changedOnTwoPhones(server: LoopbackServer, id: String): ClientBook {
    val book = (RuntimeEnvironment.getApplication() as KartkaApp).book
    book.pairCreateBusiness(server.url, "Owner's phone")
    book.syncNow()
    val other = ClientBook.open(Files.createTempDirectory("kartka-b").resolve("book.db").toString())
    other.pairJoin(server.url, book.invite().code, "Olena")
    other.syncNow()
    book.updateClient(id, ClientPatchRec(name = "Олена Коваленко-Шевчук", phones = listOf("067 123 45 67", "050 111 22 33")))
    other.updateClient(id, ClientPatchRec(name = "Олена Ковальова", phones = listOf("067 765 43 21")))
    book.syncNow()
    other.syncNow()
    book.syncNow()
    return other
}

package app.kartka.android

import android.os.SystemClock
import android.view.MotionEvent
import app.kartka.app.LoopbackServer
import app.kartka.core.ClientBook
import app.kartka.core.ClientPatchRec
import app.kartka.core.NewClientRec
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config
import java.nio.file.Files
import kotlin.test.assertTrue

/** The sync line on the list and the card, and pull to refresh, over a real server on loopback. */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35], application = KartkaTestApp::class, qualifiers = PHONE)
class SyncLineFlowTest {
    private val app get() = RuntimeEnvironment.getApplication() as KartkaApp

    @Test
    fun theListAndTheCardShowTheLineAndAPullSyncsNow() = LoopbackServer().use { server ->
        val olena = studio("Олена Коваленко", "067 123 45 67")
        val list = Robolectric.buildActivity(ClientListActivity::class.java).setup().get()
        list.waitFor("Not paired — nothing leaves this phone")

        // Paired behind the screens' back (not from Settings), so no foreground loop runs:
        // whatever arrives from now on arrives because the master pulled.
        app.book.pairCreateBusiness(server.url, "Phone A")
        app.book.syncNow()
        list.waitFor("Synced just now")
        val other = ClientBook.open(Files.createTempDirectory("kartka-b").resolve("book.db").toString())
        other.pairJoin(server.url, app.book.invite().code, "Phone B")
        other.syncNow()
        other.addClient(NewClientRec("Марія Шевченко", listOf("050 765 43 21"), null, null, null, null, emptyList()))
        other.syncNow()
        assertTrue(app.book.findClients("Марія", null, null, 0u, 10u).isEmpty())

        pullDown(list)
        list.waitFor("Марія Шевченко")
        list.waitFor("Synced just now")

        val card = openCard(olena, "Олена Коваленко")
        card.waitFor("Synced just now")
        other.updateClient(olena, ClientPatchRec(comment = "алергія на латекс"))
        other.syncNow()
        pullDown(card)
        card.waitFor("алергія на латекс")

        // An edit made here while the server is away: the card says it waits, in amber.
        server.kill()
        app.book.updateClient(olena, ClientPatchRec(comment = "алергія на латекс, без ацетону"))
        card.waitFor("Synced just now · 1 change waiting")
        // A tap on the line is the same as a pull, for those who do not drag.
        tap(card.textStarting("Synced just now"))
        card.waitFor("Offline — 1 change waiting · Server unreachable")
        server.restart()
        pullDown(card)
        settle("the line to say synced") { card.texts().any { it == "Synced just now" } }
    }

    /** A finger from the top of the page down 400 dp, in steps, and up. */
    private fun pullDown(activity: android.app.Activity) {
        val pull = activity.root().tree().filterIsInstance<PullToRefresh>().single()
        val density = activity.resources.displayMetrics.density
        val t = SystemClock.uptimeMillis()
        val x = 200 * density
        val y0 = 120 * density
        fun ev(action: Int, y: Float, dt: Long) = MotionEvent.obtain(t, t + dt, action, x, y, 0).also { pull.dispatchTouchEvent(it); it.recycle() }
        ev(MotionEvent.ACTION_DOWN, y0, 0)
        for (i in 1..20) ev(MotionEvent.ACTION_MOVE, y0 + i * 20 * density, i * 16L)
        ev(MotionEvent.ACTION_UP, y0 + 400 * density, 340)
        org.robolectric.Shadows.shadowOf(android.os.Looper.getMainLooper()).idle()
    }
}

// Pairing and sync from Kotlin on the JVM against a real kartka-server process on loopback
// (the binary built by scripts/test-bindings, given in KARTKA_SERVER_BIN).

import app.kartka.core.ApiException
import app.kartka.core.ChangeListener
import app.kartka.core.ClientBook
import app.kartka.core.NewBusinessRec
import app.kartka.core.NewClientRec
import app.kartka.core.SyncLink
import app.kartka.core.SyncProblemKind
import app.kartka.core.SyncStateListener
import app.kartka.core.SyncStateRec
import app.kartka.core.SyncStatusListener
import app.kartka.core.SyncStatusRec
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.test.AfterTest
import kotlin.test.BeforeTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

class SyncTest {
    private lateinit var running: TestServer
    private val server get() = running.process
    private val url get() = running.url

    @BeforeTest
    fun startServer() {
        running = TestServer()
    }

    @AfterTest
    fun stopServer() = running.stop()

    private fun owner(): ClientBook {
        val a = book("a")
        a.initBusiness(NewBusinessRec("Студія", "UA", "Europe/Kyiv", "UAH", "uk"))
        return a
    }

    private fun client(name: String) = NewClientRec(name, listOf("0671234567"), null, null, null, null, emptyList())

    @Test
    fun twoBooksConvergeThroughARealServer() {
        val a = owner()
        val olena = a.addClient(client("Олена Коваленко"))
        a.pairCreateBusiness(url, "phone A")
        assertEquals(2u, a.syncNow().pushed)
        val b = book("b")
        b.pairJoin(url, a.invite().code, "phone B")
        val heard = mutableListOf<String>()
        b.setChangeListener(object : ChangeListener {
            override fun clientsChanged(clientIds: List<String>) {
                heard.addAll(clientIds)
            }
        })
        assertEquals(2u, b.syncNow().pulled)
        assertEquals(listOf(olena.id), heard)
        assertEquals("Олена Коваленко", b.getClient(olena.id).name)
        b.setConsent(olena.id, "whatsapp", true, "written", "анкета")
        assertEquals(1u, b.syncNow().pushed)
        assertEquals(1u, a.syncNow().pulled)
        assertEquals(listOf("whatsapp"), a.getClient(olena.id).consented)
    }

    @Test
    fun syncErrorsAreTyped() {
        val lonely = book("lonely")
        assertFailsWith<ApiException.NotPaired> { lonely.syncNow() }
        val e = assertFailsWith<ApiException.Server> { lonely.pairJoin(url, "NOTACODE22", "phone") }
        assertEquals("invite_invalid", e.code)
    }

    @Test
    fun theBackgroundLoopBringsEditsMadeElsewhere() {
        val a = owner()
        a.pairCreateBusiness(url, "phone A")
        a.syncNow()
        val b = book("b")
        b.pairJoin(url, a.invite().code, "phone B")
        b.syncNow()
        val pulled = CountDownLatch(1)
        val stopped = CountDownLatch(1)
        b.startSync(5u, object : SyncStatusListener {
            override fun syncStatus(status: SyncStatusRec) {
                when (status) {
                    is SyncStatusRec.Synced -> if (status.report.pulled > 0u) pulled.countDown()
                    is SyncStatusRec.Stopped -> stopped.countDown()
                    is SyncStatusRec.Failed, is SyncStatusRec.Progress -> {}
                }
            }
        })
        val marta = a.addClient(client("Марта"))
        a.syncNow()
        assertTrue(pulled.await(20, TimeUnit.SECONDS))
        assertEquals("Марта", b.getClient(marta.id).name)
        b.stopSync()
        assertTrue(stopped.await(20, TimeUnit.SECONDS))
    }

    @Test
    fun theSyncStateCountsOfflineEditsAndNamesTheFailure() {
        val a = owner()
        val heard = java.util.Collections.synchronizedList(mutableListOf<SyncStateRec>())
        a.observeSyncState(object : SyncStateListener {
            override fun syncStateChanged(state: SyncStateRec) {
                heard.add(state)
            }
        })
        assertEquals(false, heard.first().paired)
        a.pairCreateBusiness(url, "phone A")
        a.syncNow()
        val synced = a.syncState()
        assertTrue(synced.link is SyncLink.Connected, "${synced.link}")
        assertEquals(0uL, synced.pending)
        assertTrue(synced.hasSynced)
        assertEquals(synced, heard.last())

        server.destroy()
        server.waitFor(30, TimeUnit.SECONDS)
        a.addClient(client("Офлайн"))
        assertEquals(1uL, heard.last().pending)
        val e = assertFailsWith<ApiException.Network> { a.syncNow() }
        assertTrue(e.detail.contains("unreachable (connection refused)"), e.detail)
        val offline = a.syncState()
        assertTrue(offline.link is SyncLink.Offline, "${offline.link}")
        assertEquals(SyncProblemKind.UNREACHABLE, offline.lastError?.kind)
        assertEquals(1uL, offline.pending)
        assertEquals(offline, heard.last())
    }
}

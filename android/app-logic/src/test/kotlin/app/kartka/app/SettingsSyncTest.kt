package app.kartka.app

import app.kartka.core.ClientBook
import app.kartka.core.ClientPatchRec
import app.kartka.core.SyncReportRec
import app.kartka.core.SyncStatusRec
import java.nio.file.Files
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlin.test.AfterTest
import kotlin.test.BeforeTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

/** Settings and sync against a real kartka-server process on loopback. */
class SettingsSyncTest {
    private lateinit var server: LoopbackServer
    private lateinit var url: String

    @BeforeTest
    fun startServer() {
        server = LoopbackServer()
        url = server.url
    }

    @AfterTest
    fun stopServer() = server.close()

    private fun emptyBook(): ClientBook =
        ClientBook.open(Files.createTempDirectory("kartka-b").resolve("book.db").toString())

    @Test
    fun aSecondPhoneJoinsByQrAndTheForegroundLoopKeepsItLive(): Unit = runBlocking {
        val a = newBook()
        val olena = a.client("Олена Коваленко", "067 123 45 67")
        val settingsA = SettingsViewModel(a, Dispatchers.IO)
        settingsA.setDetails("Студія Олени", "+380501112233")
        settingsA.setHours(6, "closed")
        settingsA.createOnServer(url, "Phone A")
        settingsA.load()
        assertEquals(url, settingsA.state.value.sync?.server)
        assertEquals("closed", settingsA.state.value.business?.workingHours?.get(6))
        settingsA.invite()
        val qr = assertNotNull(settingsA.state.value.inviteQr)

        val b = emptyBook()
        val settingsB = SettingsViewModel(b, Dispatchers.IO)
        assertFalse(settingsB.join("not a code", null, "Phone B"))
        val joined = settingsB.join(qr, null, "Phone B")
        assertTrue(joined, "${settingsB.state.value.error} / $qr")
        assertEquals("Студія Олени", settingsB.state.value.business?.name)
        assertEquals("Олена Коваленко", b.getClient(olena.id).name)

        settingsA.loadDevices()
        assertEquals(listOf("Phone A", "Phone B"), settingsA.state.value.devices.map { it.name }.sorted())

        // The foreground loop on B hears A's edit without anyone pressing sync.
        val sync = SyncController(b)
        sync.start(waitSeconds = 2)
        try {
            withTimeout(20_000) { sync.state.first { it.book?.lastSyncedAt != null } }
            a.updateClient(olena.id, ClientPatchRec(clientClass = "vip"))
            a.syncNow()
            withTimeout(20_000) {
                while (b.getClient(olena.id).clientClass != "vip") kotlinx.coroutines.delay(50)
            }
        } finally {
            sync.stop()
        }
        withTimeout(20_000) { sync.state.first { !it.running } }
        assertEquals(null, sync.state.value.book?.lastError)
        sync.close()
    }

    @Test
    fun aConfirmationRequestCarriesALinkTheServerSigned(): Unit = runBlocking {
        val book = newBook()
        val c = book.client("Олена", "067 123 45 67")
        val agenda = AgendaViewModel(book, Dispatchers.IO)
        val v = agenda.create(c.id, java.time.LocalDate.now().plusDays(2).atTime(10, 0), 60, emptyList())!!
        val card = ClientCardViewModel(book, c.id, Dispatchers.IO)
        // Not paired: no server to sign a link, and the card says why.
        assertEquals(null, card.confirmationRequest(v.id))
        assertEquals("This phone is not paired with a server yet", card.state.value.error)

        SettingsViewModel(book, Dispatchers.IO).createOnServer(url, "Phone A")
        val text = assertNotNull(card.confirmationRequest(v.id))
        assertTrue(text.startsWith("Підтвердіть, будь ласка, ваш запис: $url/c/"), text)
        val link = text.substringAfterLast(' ')
        val page = java.net.http.HttpClient.newHttpClient().send(
            java.net.http.HttpRequest.newBuilder(java.net.URI(link)).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString(),
        )
        assertEquals(200, page.statusCode())
        assertTrue(page.body().contains("Підтвердити"), page.body())
    }

    @Test
    fun theSyncLineShowsMergedConflicts() {
        val sync = SyncController(newBook(), Strings.of("en"))
        // A failure reaches the line through the book's status (SyncLineTest), not the loop's report.
        sync.syncStatus(SyncStatusRec.Failed("network error: connection refused", 2000u))
        assertEquals(null, sync.state.value.notice)
        sync.syncStatus(SyncStatusRec.Synced(SyncReportRec(3u, 5u, 2u, 1u)))
        val s = sync.state.value
        assertEquals(2, s.conflictsResolved)
        assertEquals("2 cards were edited on two phones at once; both edits were kept", s.notice)
        sync.noticeShown()
        sync.syncStatus(SyncStatusRec.Synced(SyncReportRec(0u, 0u, 0u, 1u)))
        assertEquals(null, sync.state.value.notice)
        assertEquals(2, sync.state.value.conflictsResolved)
    }

    /** A staff link opened in another chat: the phone says whose alerts moved, by name. */
    @Test
    fun theSyncLineSaysWhoseTelegramAlertsMoved() {
        val book = newBook()
        val marta = book.putStaff(app.kartka.core.StaffRec(id = "", name = "Марта", email = null, telegram = null, active = true))
        val sync = SyncController(book, words = Strings.of("uk"))
        sync.syncStatus(SyncStatusRec.Synced(SyncReportRec(0u, 1u, 0u, 1u, listOf(marta))))
        assertEquals(
            "Сповіщення Telegram для Марта тепер надходять в інший чат; якщо це були не вони, створіть нове посилання в Налаштуваннях",
            sync.state.value.notice,
        )
    }
}

package app.kartka.app

import app.kartka.core.ClientBook
import app.kartka.core.ReceivingRec
import app.kartka.core.SyncLink
import app.kartka.core.SyncProblemKind
import app.kartka.core.SyncProblemRec
import app.kartka.core.SyncStateListener
import app.kartka.core.SyncStateRec
import java.nio.file.Files
import java.time.Instant
import java.util.Collections
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue

/**
 * The status line on the client list and the card, fed by the core's observable over a real
 * book and a real kartka-server on loopback: every transition a master lives through.
 */
class SyncLineTest {
    private val uk = Strings.of("uk")

    /** What the line says in Ukrainian for the state the controller was last told. */
    private fun SyncController.inUk(): String =
        SyncLineWords(uk).line(state.value.book!!, Instant.now(), state.value.refreshing).text

    private fun SyncController.inEn(): String = line()!!.text

    @Test
    fun neverPairedThenSyncedThenOfflineWithEditsWaitingThenDrained(): Unit = runBlocking {
        LoopbackServer().use { server ->
            val book = newBook()
            val olena = book.client("Олена Коваленко", "067 123 45 67")
            val sync = SyncController(book, Strings.of("en"), Dispatchers.IO)
            try {
                // Never paired: everything stays on the phone, and the line says so.
                assertFalse(sync.state.value.book!!.paired)
                assertEquals("Not paired — nothing leaves this phone", sync.inEn())
                assertEquals("Не підключено — ніщо не залишає цей телефон", sync.inUk())
                assertFalse(sync.syncNow(), "pull to refresh does nothing on an unpaired book")

                // Paired and synced: the card went up; nothing waits.
                SettingsViewModel(book, Dispatchers.IO).createOnServer(server.url, "Phone A")
                var st = sync.state.value.book!!
                assertTrue(st.paired && st.hasSynced && st.link is SyncLink.Connected, "$st")
                assertEquals(0uL, st.pending)
                assertEquals("Synced just now", sync.inEn())
                assertEquals("Синхронізовано щойно", sync.inUk())

                // The server dies. Edits made now are counted at once, before any sync tries.
                server.kill()
                book.updateClient(olena.id, app.kartka.core.ClientPatchRec(comment = "алергія на латекс"))
                book.client("Марія Шевченко", "050 765 43 21")
                assertEquals(2uL, sync.state.value.book!!.pending)
                assertEquals("Synced just now · 2 changes waiting", sync.inEn())

                // Pull to refresh: the server is not there. Offline, and the edits are safe here.
                assertFalse(sync.syncNow())
                st = sync.state.value.book!!
                assertTrue(st.link is SyncLink.Offline, "$st")
                assertEquals(SyncProblemKind.UNREACHABLE, st.lastError?.kind)
                assertEquals("Offline — 2 changes waiting · Server unreachable", sync.inEn())
                assertEquals("Офлайн — 2 зміни чекають · Сервер недоступний", sync.inUk())
                assertEquals(SyncTone.WAITING, sync.line()!!.tone)

                // More edits offline: the count follows (Ukrainian's plural moves with it).
                repeat(3) { book.client("Клієнт $it", "067 000 00 0$it") }
                assertEquals("Offline — 5 changes waiting · Server unreachable", sync.inEn())
                assertEquals("Офлайн — 5 змін чекають · Сервер недоступний", sync.inUk())

                // The server is back: one sync drains the count to zero.
                server.restart()
                assertTrue(sync.syncNow())
                st = sync.state.value.book!!
                assertEquals(0uL, st.pending)
                assertEquals(null, st.lastError)
                assertTrue(st.link is SyncLink.Connected, "$st")
                assertFalse(sync.state.value.refreshing)
                assertEquals("Synced just now", sync.inEn())
                assertEquals("Синхронізовано щойно", sync.inUk())
            } finally {
                sync.close()
            }
        }
    }

    /**
     * A fresh phone joins a business of 60 clients from a server that answers in small pages:
     * the line counts what has arrived of the server's total, page by page, then says synced.
     */
    @Test
    fun aFreshPhoneSaysHowMuchOfTheBusinessHasArrived(): Unit = runBlocking {
        LoopbackServer(limits = "pull_budget = 4096\nsync_per_second = 1000").use { server ->
            val a = newBook()
            repeat(60) { a.client("Клієнтка $it", "067 100 00 %02d".format(it)) }
            SettingsViewModel(a, Dispatchers.IO).createOnServer(server.url, "Phone A")
            val invite = a.invite()

            val b = ClientBook.open(Files.createTempDirectory("kartka-b").resolve("book.db").toString())
            val seen = Collections.synchronizedList(mutableListOf<SyncStateRec>())
            b.observeSyncState(object : SyncStateListener {
                override fun syncStateChanged(state: SyncStateRec) { seen += state }
            })
            b.pairJoin(server.url, invite.code, "Phone B")
            val en = SyncLineWords(Strings.of("en"))
            val joined = b.syncState()
            assertEquals(ReceivingRec(0uL, null), joined.receiving)
            assertEquals("Receiving clients…", en.line(joined, Instant.now()).text)

            b.syncNow()
            val midway = seen.mapNotNull { s -> s.receiving?.takeIf { it.total != null && it.received in 1uL until it.total!! }?.let { s } }
            assertTrue(midway.size >= 2, "pages seen: ${seen.map { it.receiving }}")
            val total = midway.first().receiving!!.total!!
            assertTrue(total >= 60uL, "the business holds at least its 60 cards: $total")
            val first = midway.first()
            assertEquals("Receiving ${first.receiving!!.received} of $total clients", en.line(first, Instant.now()).text)
            assertEquals("Отримуємо клієнтів: ${first.receiving!!.received} з $total", SyncLineWords(uk).line(first, Instant.now()).text)
            // Counted up, never down, within one first sync.
            val counts = midway.map { it.receiving!!.received }
            assertEquals(counts.sorted(), counts)

            val done = b.syncState()
            assertEquals(null, done.receiving)
            assertTrue(done.hasSynced)
            assertEquals("Synced just now", en.line(done, Instant.now()).text)
            assertEquals(60, b.findClients("Клієнтка", null, null, 0u, 100u).size)
            b.stopObservingSyncState()
        }
    }

    /** Every kind of problem in the master's words, in each language; relative times with plurals. */
    @Test
    fun problemsAndAgesAreWordedInEveryLanguage() {
        val now = Instant.parse("2026-12-01T10:00:00Z")
        fun state(kind: SyncProblemKind?, pending: ULong = 0u, synced: String? = "2026-12-01T09:58:00Z") = SyncStateRec(
            paired = true, server = "https://sync.example.com",
            link = if (kind != null && SyncLineWords.isOffline(kind)) SyncLink.Offline("2026-12-01T09:59:00Z") else SyncLink.Connected("2026-12-01T09:00:00Z"),
            lastSyncedAt = synced, hasSynced = synced != null, pending = pending, syncing = false, receiving = null,
            lastError = kind?.let { SyncProblemRec(it, "words of the core", "2026-12-01T09:59:00Z") },
        )
        val en = SyncLineWords(Strings.of("en"))
        assertEquals("Synced 2 min ago", en.line(state(null), now).text)
        assertEquals("Offline · No answer from the server", en.line(state(SyncProblemKind.TIMED_OUT), now).text)
        assertEquals("Offline — 1 change waiting · Connection lost", en.line(state(SyncProblemKind.CONNECTION_LOST, 1u), now).text)
        assertEquals("The server refused the sync · 3 changes waiting", en.line(state(SyncProblemKind.REFUSED, 3u), now).text)
        assertEquals(SyncTone.PROBLEM, en.line(state(SyncProblemKind.SERVER_FAULT), now).tone)
        // Revoked: the book was wiped, pairing and all; the line says why, not "not paired".
        val revoked = state(SyncProblemKind.REVOKED).copy(paired = false, server = null)
        assertEquals("This phone was removed from the business; its copy was erased", en.line(revoked, now).text)
        assertEquals("Цей телефон вилучено з бізнесу; його копію стерто", SyncLineWords(uk).line(revoked, now).text)
        for (lang in LANGUAGES) {
            val w = SyncLineWords(Strings.of(lang))
            for (kind in SyncProblemKind.entries) {
                assertFalse(w.problemWords(kind).startsWith("sync."), "$lang has no words for $kind")
            }
        }
        assertEquals("Receiving 12,000 of 50,000 clients",
            en.line(state(null).copy(receiving = ReceivingRec(12_000u, 50_000u)), now).text)
        assertEquals("Pobieranie klientów: 12\u00a0000 z 50\u00a0000",
            SyncLineWords(Strings.of("pl")).line(state(null).copy(receiving = ReceivingRec(12_000u, 50_000u)), now).text.replace('\u202f', '\u00a0'))

        val ago = { lang: String, minutes: Long -> SyncLineWords(Strings.of(lang)).ago(now.minusSeconds(minutes * 60).toString(), now) }
        assertEquals(listOf("щойно", "1 хвилину тому", "2 хвилини тому", "5 хвилин тому", "21 хвилину тому", "1 годину тому", "3 години тому", "5 годин тому"),
            listOf(0L, 1, 2, 5, 21, 60, 180, 300).map { ago("uk", it) })
        assertEquals(listOf("только что", "1 минуту назад", "3 минуты назад", "11 минут назад", "2 часа назад"),
            listOf(0L, 1, 3, 11, 120).map { ago("ru", it) })
        assertEquals(listOf("przed chwilą", "1 minutę temu", "22 minuty temu", "25 minut temu", "1 godzinę temu"),
            listOf(0L, 1, 22, 25, 60).map { ago("pl", it) })
        assertEquals(listOf("just now", "1 min ago", "2 hours ago"), listOf(0L, 1, 120).map { ago("en", it) })
    }

    /** A day or more ago, the moment itself, written by the core on the business's clock. */
    @Test
    fun anOldSyncIsDatedByTheCore() {
        val book = newBook()
        val sync = SyncController(book, uk)
        try {
            val words = SyncLineWords(uk) { at -> book.formatMoment(at, "uk") }
            assertEquals("1 грудня 2026, 12:00", words.ago("2026-12-01T10:00:00Z", Instant.parse("2026-12-03T10:00:00Z")))
        } finally {
            sync.close()
        }
    }
}

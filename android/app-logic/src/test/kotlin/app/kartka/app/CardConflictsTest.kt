package app.kartka.app

import app.kartka.core.ClientBook
import app.kartka.core.ClientPatchRec
import app.kartka.core.ServiceRec
import app.kartka.core.VisitPatchRec
import java.nio.file.Files
import java.time.LocalDateTime
import java.time.ZoneId
import java.util.Locale
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlin.test.AfterTest
import kotlin.test.BeforeTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue

/**
 * Edits made on two phones at once, on the card: two real books change a client apart and
 * sync through a real kartka-server on loopback; each card lists both values with whose phone
 * made them, and one step settles them on every phone.
 */
class CardConflictsTest {
    private lateinit var server: LoopbackServer
    private val locale = Locale.getDefault()

    @BeforeTest
    fun start() {
        server = LoopbackServer()
    }

    @AfterTest
    fun stop() {
        Locale.setDefault(locale)
        server.close()
    }

    /** Two phones of one studio, synced: the owner's ("phone A") and Olena's. */
    private fun twoPhones(): Pair<ClientBook, ClientBook> {
        val a = newBook()
        a.pairCreateBusiness(server.url, "phone A")
        a.syncNow()
        val b = ClientBook.open(Files.createTempDirectory("kartka-b").resolve("book.db").toString())
        b.pairJoin(server.url, a.invite().code, "Olena")
        b.syncNow()
        return a to b
    }

    private fun syncAll(a: ClientBook, b: ClientBook) {
        a.syncNow(); b.syncNow(); a.syncNow()
    }

    /** The lines without the "(shown now)" mark, which automerge's pick decides. */
    private fun CardConflict.lines(s: Strings) = choices.map { it.line.removeSuffix(" (${s["conflict.shown"]})") }.toSet()

    @Test
    fun bothCardsListBothValuesWithWhoMadeThemAndOneKeepSettlesEveryPhone(): Unit = runBlocking {
        val (a, b) = twoPhones()
        val anna = a.client("Anna", "+380671111111")
        syncAll(a, b)
        a.updateClient(anna.id, ClientPatchRec(name = "Anna Koval", phones = listOf("+380672222222")))
        b.updateClient(anna.id, ClientPatchRec(name = "Anna Kovalenko", phones = listOf("+380673333333")))
        syncAll(a, b)

        Locale.setDefault(Locale.ENGLISH)
        val cardA = ClientCardViewModel(a, anna.id, Dispatchers.IO)
        cardA.load()
        val en = Strings.of("en")
        val (nameA, phonesA) = cardA.state.value.conflicts
        assertEquals("name", nameA.field)
        assertEquals("2 phones changed the name while apart", nameA.title)
        assertEquals(setOf("«Anna Koval» — this phone", "«Anna Kovalenko» — Olena's phone"), nameA.lines(en))
        assertEquals(1, nameA.choices.count { it.line.endsWith("(shown now)") }, "the card says which one it shows")
        assertEquals(listOf("Keep this", "Keep this"), nameA.choices.map { it.keep })
        assertNull(nameA.keepAll, "names cannot be kept both")
        assertEquals("2 phones changed the phone numbers while apart", phonesA.title)
        assertEquals(setOf("«+380672222222» — this phone", "«+380673333333» — Olena's phone"), phonesA.lines(en))
        assertEquals("Keep both numbers", phonesA.keepAll)

        Locale.setDefault(Locale.forLanguageTag("uk-UA"))
        val cardB = ClientCardViewModel(b, anna.id, Dispatchers.IO)
        cardB.load()
        val uk = Strings.of("uk")
        val nameB = cardB.state.value.conflicts.first()
        assertEquals("2 телефони змінили ім'я, поки були без зв'язку", nameB.title)
        assertEquals(setOf("«Anna Koval» — телефон «phone A»", "«Anna Kovalenko» — цей телефон"), nameB.lines(uk))
        assertEquals("Залишити обидва номери", cardB.state.value.conflicts[1].keepAll)

        // The owner keeps Olena's spelling: one tap, the card reloads without that conflict.
        val kovalenko = nameA.choices.single { it.line.startsWith("«Anna Kovalenko»") }
        assertEquals("Keep «Anna Kovalenko»", kovalenko.describe)
        cardA.settleConflict(nameA.field, kovalenko.index)
        assertEquals("Anna Kovalenko", cardA.state.value.client?.name)
        assertEquals(listOf("phones"), cardA.state.value.conflicts.map { it.field })

        // Olena keeps both numbers; after sync neither phone has a conflict left.
        syncAll(a, b)
        cardB.load()
        assertEquals(listOf("phones"), cardB.state.value.conflicts.map { it.field })
        cardB.settleConflict("phones", null)
        assertEquals(setOf("+380672222222", "+380673333333"), cardB.state.value.client?.phones?.map { it.raw }?.toSet())
        assertEquals(emptyList(), cardB.state.value.conflicts)
        syncAll(a, b)

        // The owner's card still showed the phones conflict; settled meanwhile, the tap
        // only reloads, with no error.
        cardA.settleConflict("phones", 0u)
        assertNull(cardA.state.value.error)
        assertEquals(emptyList(), cardA.state.value.conflicts)
        assertEquals("Anna Kovalenko", cardA.state.value.client?.name)
        assertEquals(2, cardA.state.value.client?.phones?.size)
        cardB.load()
        assertEquals(emptyList(), cardB.state.value.conflicts)
        assertEquals("Anna Kovalenko", cardB.state.value.client?.name)
    }

    @Test
    fun aVisitMovedOnTwoPhonesShowsBothTimesOnTheBusinessClock(): Unit = runBlocking {
        val (a, b) = twoPhones()
        val olena = a.client("Олена Коваленко", "067 123 45 67")
        val zone = ZoneId.of("Europe/Kyiv")
        val visit = AgendaViewModel(a, Dispatchers.IO).create(olena.id, LocalDateTime.of(2026, 12, 1, 10, 0), 60, listOf(ServiceRec("Манікюр", 80000, 1u)))!!
        syncAll(a, b)
        a.updateVisit(visit.id, VisitPatchRec(start = LocalDateTime.of(2026, 12, 1, 11, 0).atZone(zone).toInstant().toString()))
        b.updateVisit(visit.id, VisitPatchRec(start = LocalDateTime.of(2026, 12, 2, 9, 30).atZone(zone).toInstant().toString()))
        syncAll(a, b)

        val uk = Strings.of("uk")
        val c = cardConflicts(a, olena.id, uk).single()
        assertEquals("visit-time:${visit.id}", c.field)
        assertEquals("2 телефони змінили час візиту «Манікюр», поки були без зв'язку", c.title)
        assertEquals(setOf("«1 грудня 2026, 11:00» — цей телефон", "«2 грудня 2026, 09:30» — телефон «Olena»"), c.lines(uk))
        assertNull(c.keepAll)
        assertEquals(
            setOf("«1 December 2026, 11:00» — this phone", "«2 December 2026, 09:30» — Olena's phone"),
            cardConflicts(a, olena.id, Strings.of("en")).single().lines(Strings.of("en")),
        )

        settleCardConflict(a, olena.id, c.field, c.choices.single { it.line.contains("11:00") }.index)
        assertTrue(cardConflicts(a, olena.id, uk).isEmpty())
        syncAll(a, b)
        assertTrue(cardConflicts(b, olena.id, uk).isEmpty())
    }
}

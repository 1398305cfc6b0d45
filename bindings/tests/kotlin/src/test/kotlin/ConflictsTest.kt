// Edits made on two books at once, read and settled through the Kotlin bindings: the two books
// sync through a real kartka-server process on loopback (KARTKA_SERVER_BIN). The behaviour
// itself is tested in Rust (core/tests/conflicts.rs); this proves the records and errors.

import app.kartka.core.ApiException
import app.kartka.core.ClientBook
import app.kartka.core.ClientPatchRec
import app.kartka.core.NewBusinessRec
import app.kartka.core.NewClientRec
import kotlin.test.AfterTest
import kotlin.test.BeforeTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull
import kotlin.test.assertTrue

class ConflictsTest {
    private lateinit var running: TestServer
    private val url get() = running.url

    @BeforeTest
    fun startServer() {
        running = TestServer()
    }

    @AfterTest
    fun stopServer() = running.stop()

    @Test
    fun conflictsAreReadWithWhoMadeThemAndSettledOnce() {
        val a = book("a")
        a.initBusiness(NewBusinessRec("Студія", "UA", "Europe/Kyiv", "UAH", "uk"))
        val anna = a.addClient(NewClientRec("Anna", listOf("+380671111111"), null, null, null, null, emptyList()))
        a.pairCreateBusiness(url, "phone A")
        a.syncNow()
        val b = book("b")
        b.pairJoin(url, a.invite().code, "phone B")
        b.syncNow()
        assertEquals(emptyList(), b.clientConflicts(anna.id))

        a.updateClient(anna.id, ClientPatchRec(name = "Anna K", phones = listOf("+380672222222")))
        b.updateClient(anna.id, ClientPatchRec(name = "Ганна", phones = listOf("+380673333333")))
        a.syncNow()
        b.syncNow()
        a.syncNow()

        val conflicts = a.clientConflicts(anna.id)
        assertEquals(listOf("name", "phones"), conflicts.map { it.field })
        val name = conflicts[0]
        assertEquals("name", name.kind)
        assertEquals(setOf("Anna K", "Ганна"), name.values.map { it.display }.toSet())
        assertEquals(a.getClient(anna.id).name, name.values[name.current!!.toInt()].display)
        val mine = name.values.single { it.byThisDevice }
        assertEquals("Anna K", mine.display)
        assertEquals("phone A", mine.byName)
        assertEquals("phone B", name.values.single { !it.byThisDevice }.byName)
        val phones = conflicts[1]
        assertNull(phones.current)
        assertTrue(phones.canKeepAll)
        assertEquals(setOf(listOf("+380672222222"), listOf("+380673333333")), phones.values.map { it.phones }.toSet())

        assertFailsWith<ApiException.Validation> { a.settleConflict(anna.id, "email", 0u) }
        assertFailsWith<ApiException.Validation> { a.settleConflict(anna.id, "name", 9u) }
        val keep = name.values.indexOfFirst { it.display == "Ганна" }.toUInt()
        assertEquals("Ганна", a.settleConflict(anna.id, "name", keep).name)
        assertEquals(2, a.settleConflict(anna.id, "phones", null).phones.size)
        assertEquals(emptyList(), a.clientConflicts(anna.id))
        assertFailsWith<ApiException.NoConflict> { a.settleConflict(anna.id, "name", 0u) }

        a.syncNow()
        b.syncNow()
        assertEquals(emptyList(), b.clientConflicts(anna.id))
        assertEquals("Ганна", b.getClient(anna.id).name)
    }
}

package app.kartka.app

import app.kartka.core.NewVisitRec
import app.kartka.core.ServiceRec
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue

class ClientListTest {
    @Test
    fun searchesByNamePhoneAndEmailWithinClassAndTag(): Unit = runBlocking {
        val book = newBook()
        book.client("Олена Коваленко", "067 123 45 67", cls = "vip", tags = listOf("нарощення"))
        book.client("Олена Мельник", "050 765 43 21", tags = listOf("манікюр"))
        book.client("Anna Nowak", email = "anna.nowak@example.pl")
        val vm = ClientListViewModel(book, Dispatchers.IO)

        vm.search("олен")
        assertEquals(listOf("Олена Коваленко", "Олена Мельник"), vm.state.value.rows.map { it.name })
        assertEquals(listOf(true, false), vm.state.value.rows.map { it.vip })
        assertEquals("067 123 45 67", vm.state.value.rows[0].contact)

        vm.search("050 765")
        assertEquals(listOf("Олена Мельник"), vm.state.value.rows.map { it.name })
        vm.search("nowak@ex")
        assertEquals(listOf("anna.nowak@example.pl"), vm.state.value.rows.map { it.contact })

        vm.search("олена")
        vm.filter("vip", null)
        assertEquals(listOf("Олена Коваленко"), vm.state.value.rows.map { it.name })
        vm.filter(null, "манікюр")
        assertEquals(listOf("Олена Мельник"), vm.state.value.rows.map { it.name })
        vm.search("")
        assertEquals(listOf("Олена Мельник"), vm.state.value.rows.map { it.name }, "a blank query lists the filter")
        assertNull(vm.state.value.error)
    }

    @Test
    fun pagesFollowOnAndDebtIsShownInTheBusinessCurrency(): Unit = runBlocking {
        val book = newBook()
        repeat(7) { book.client("Клієнт %02d".format(it), "067 000 00 %02d".format(it)) }
        val owing = book.client("Борг Боржник", "067 111 11 11")
        val v = book.addVisit(NewVisitRec(owing.id, "2026-11-02T08:00:00Z", 60u, listOf(ServiceRec("Стрижка", 120050, 1u)), null, 0))
        book.setVisitStatus(v.id, "completed")

        val vm = ClientListViewModel(book, Dispatchers.IO, pageSize = 3)
        vm.search("")
        assertEquals(3, vm.state.value.rows.size)
        assertTrue(vm.state.value.more)
        assertEquals("1\u00a0200,50\u00a0₴", vm.state.value.rows.first { it.name == "Борг Боржник" }.owes)
        vm.loadMore(); vm.loadMore(); vm.loadMore()
        assertEquals(8, vm.state.value.rows.size)
        assertFalse(vm.state.value.more)
        assertEquals(8, vm.state.value.rows.map { it.id }.toSet().size, "no row twice across pages")
    }
}

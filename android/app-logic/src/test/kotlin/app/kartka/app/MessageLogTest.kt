package app.kartka.app

import java.time.LocalDate
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertTrue

class MessageLogTest {
    @Test
    fun everyClientsMessagesNewestFirstWithFilters(): Unit = runBlocking {
        val book = newBook()
        val olena = book.client("Олена", "067 123 45 67")
        val anna = book.client("Anna", "+48 601 234 567")
        book.setConsent(olena.id, "sms", true, "written", "")
        book.setConsent(olena.id, "whatsapp", true, "written", "")
        book.setConsent(anna.id, "sms", true, "written", "")
        book.recordMessage(olena.id, "sms", "перше")
        book.recordMessage(anna.id, "sms", "druga")
        book.recordMessage(olena.id, "whatsapp", "третє")

        val vm = MessageLogViewModel(book, Dispatchers.IO, pageSize = 2)
        vm.filter()
        assertEquals(listOf("третє", "druga"), vm.state.value.rows.map { it.message.body })
        assertTrue(vm.state.value.more)
        vm.loadMore()
        assertEquals(listOf("Олена", "Anna", "Олена"), vm.state.value.rows.map { it.clientName })

        vm.filter(channel = "sms")
        assertEquals(listOf("druga", "перше"), vm.state.value.rows.map { it.message.body })
        vm.filter(status = "failed")
        assertEquals(emptyList(), vm.state.value.rows)
        vm.filter(kind = "manual", from = LocalDate.now().minusDays(1), to = LocalDate.now())
        vm.loadMore()
        assertEquals(3, vm.state.value.rows.size, "today's, by the business's days")
        vm.filter(from = LocalDate.now().plusDays(1))
        assertEquals(emptyList(), vm.state.value.rows)
        vm.filter(status = "lost")
        assertEquals("Check message status: expected one of: handed_to_app, scheduled, sending, sent, delivered, read, failed, skipped_no_consent, uncertain, cancelled, received, queued", vm.state.value.error)
    }
}

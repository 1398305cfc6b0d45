package app.kartka.app

import app.kartka.core.ServiceRec
import java.time.LocalDate
import java.time.LocalDateTime
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull

class AgendaTest {
    @Test
    fun visitsAreBookedMovedPaidAndClosedInTheBusinessesDays(): Unit = runBlocking {
        val book = newBook()
        val c = book.client("Олена", "067 123 45 67")
        val vm = AgendaViewModel(book, Dispatchers.IO)
        val day = LocalDate.of(2026, 12, 1)
        vm.showDay(day)
        val v = assertNotNull(
            vm.create(c.id, day.atTime(10, 0), 90, listOf(ServiceRec("Манікюр", 80000, 1u), ServiceRec("Дизайн", 10000, 2u)), reminder = "120"),
        )
        // 10:00 in Kyiv is 08:00 UTC in winter.
        assertEquals("2026-12-01T08:00:00+00:00", v.start)
        assertEquals("120", v.reminder)
        val row = vm.state.value.days.single().second.single()
        assertEquals("10:00–11:30", row.time)
        assertEquals("Манікюр, Дизайн ×2", row.services)
        assertEquals("1\u00a0000,00\u00a0₴", row.total)
        assertEquals("1\u00a0000,00\u00a0₴", row.due)

        vm.setPaid(v.id, "1000")
        assertNull(vm.state.value.days.single().second.single().due)
        vm.setReminder(v.id, "off")
        assertEquals("off", book.clientVisits(c.id).single().reminder)

        // A late-evening visit the next day lands on that day in a week view, Monday first.
        vm.reschedule(v.id, LocalDateTime.of(2026, 12, 3, 23, 30))
        vm.showWeek(day)
        val week = vm.state.value.days
        assertEquals(LocalDate.of(2026, 11, 30), week.first().first)
        assertEquals(7, week.size)
        assertEquals(listOf(0, 0, 0, 1, 0, 0, 0), week.map { it.second.size })
        assertEquals("23:30–01:00", week[3].second.single().time)

        vm.complete(v.id)
        assertEquals("completed", week[3].second.single().visit.id.let { book.clientVisits(c.id).single().status })
        vm.status(v.id, "nonsense")
        assertEquals("Check visit status: expected one of: booked, confirmed, arrived, completed, no_show, cancelled", vm.state.value.error)
    }
}

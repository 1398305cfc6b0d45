package app.kartka.app

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertNull

class PhoneBookTest {
    private fun rows(): List<ContactDataRow> {
        val a = { mt: String, d1: String?, d2: String? -> ContactDataRow(11, mt, d1, d2, displayName = "Олена Коваленко", accountType = "com.google", lookupKey = "0r11") }
        return listOf(
            a(AndroidContacts.NAME, "Олена Коваленко", "Олена").copy(data3 = "Коваленко"),
            a(AndroidContacts.PHONE, "067 123-45-67", "2"),
            // The same number again from the SIM copy: kept once.
            a(AndroidContacts.PHONE, "0671234567", "1").copy(data1 = "067 123 45 67"),
            a(AndroidContacts.PHONE, "+380 44 123 4567", "0").copy(data3 = "Салон"),
            a(AndroidContacts.EMAIL, "olena@example.com", "1"),
            a(AndroidContacts.EVENT, "--04-15", "3"),
            a(AndroidContacts.EVENT, "2020-06-01", "1"),
            a(AndroidContacts.NOTE, "фарбування", null),
            ContactDataRow(12, AndroidContacts.PHONE, "+48 601 234 567", "2", displayName = "Anna Nowak"),
            ContactDataRow(13, AndroidContacts.PHONE, "050 111 22 33", "2", displayName = "Олег"),
            // A contact with nothing usable.
            ContactDataRow(14, AndroidContacts.NOTE, null, null),
        )
    }

    @Test
    fun dataRowsFoldIntoOneContactEach() {
        val contacts = contactsFromRows(rows())
        assertEquals(listOf("Олена Коваленко", "Anna Nowak", "Олег"), contacts.map { it.displayName })
        val o = contacts[0]
        assertEquals(Pair("Олена", "Коваленко"), Pair(o.givenName, o.familyName))
        assertEquals(listOf("067 123-45-67" to "mobile", "+380 44 123 4567" to "Салон"), o.phones.map { it.number to it.label })
        assertEquals(listOf("olena@example.com"), o.emails)
        assertEquals("--04-15", o.birthday, "the anniversary event is not a birthday")
        assertEquals("фарбування", o.note)
        assertEquals(Pair("0r11", "com.google"), Pair(o.platformId, o.account))
        assertEquals("12", contacts[1].platformId, "without a lookup key, the contact id")
    }

    @Test
    fun thePreviewShowsNewDuplicateAndMergeCandidateRowsAndImportsThePicked(): Unit = runBlocking {
        val book = newBook()
        book.client("Anna Nowak", "+48 601 234 567")
        book.client("Олег", "067 999 99 99")
        val vm = ImportViewModel(book, Dispatchers.IO)
        vm.preview(contactsFromRows(rows()))
        val s = vm.state.value
        assertEquals(Triple(1, 1, 1), Triple(s.new, s.duplicate, s.mergeCandidate))
        assertEquals(listOf("new", "duplicate", "merge_candidate"), s.rows.map { it.item.status })
        assertEquals(listOf(true, false, false), s.rows.map { it.picked })
        assertEquals(1, vm.pickedCount)

        vm.toggle(s.rows[1].item.row) // a duplicate cannot be picked
        vm.toggle(s.rows[2].item.row) // the other Олег is a different person: import him too
        assertEquals(listOf(true, false, true), vm.state.value.rows.map { it.picked })
        vm.importPicked()
        assertEquals(2, vm.state.value.imported?.size)
        assertNull(vm.state.value.error)
        val olena = book.getClient(vm.state.value.imported!![0])
        assertEquals(listOf("+380671234567", "+380441234567"), olena.phones.map { it.e164 })

        // Importing the same phone book again adds nobody.
        vm.preview(contactsFromRows(rows()))
        assertEquals(0, vm.state.value.new)
    }
}

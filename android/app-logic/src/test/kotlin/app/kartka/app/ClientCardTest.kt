package app.kartka.app

import app.kartka.core.ClientPatchRec
import app.kartka.core.TemplateRec
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

class ClientCardTest {
    @Test
    fun buttonsSayWhyTheyAreOffUntilConsentIsRecordedWithItsSource(): Unit = runBlocking {
        val book = newBook()
        val c = book.client("Олена Коваленко", "067 123 45 67")
        val card = ClientCardViewModel(book, c.id, Dispatchers.IO)
        card.load()
        val s = card.state.value
        assertEquals(listOf("call", "sms", "whatsapp", "telegram", "viber", "email"), s.actions.map { it.action })
        assertTrue(s.actions[0].enabled)
        assertEquals("no consent for whatsapp", s.actions.first { it.action == "whatsapp" }.reason)
        assertEquals("no email address", s.actions.last().reason)
        assertTrue(s.consent.none { it.granted }, "a new client starts with every channel off")

        // The toggle records where consent came from; an unknown source never reaches the book.
        assertFailsWith<IllegalArgumentException> { card.setConsent("whatsapp", true, "because", "") }
        card.setConsent("whatsapp", true, "written", "анкета 12.11")
        val wa = card.state.value.consent.first { it.channel == "whatsapp" }
        assertTrue(wa.granted)
        assertEquals("written", wa.lastChange?.source)
        assertEquals("анкета 12.11", wa.lastChange?.note)
        assertTrue(card.state.value.actions.first { it.action == "whatsapp" }.enabled)

        // The message opens WhatsApp through ACTION_VIEW and, once sent, is in the history.
        val link = assertNotNull(card.prepare("whatsapp", "До зустрічі завтра о 10:00"))
        assertEquals(LaunchSpec.Kind.VIEW, link.kind)
        assertTrue(link.uri.startsWith("https://wa.me/380671234567?text="))
        card.recordSent("whatsapp", "До зустрічі завтра о 10:00")
        assertEquals(listOf("whatsapp" to "manual"), card.state.value.messages.map { it.channel to it.kind })

        // SMS stays off: preparing it fails with the reason, and nothing is recorded.
        assertNull(card.prepare("sms", "Привіт"))
        assertEquals("The client has not agreed to messages on SMS", card.state.value.error)
        assertEquals(LaunchSpec.Kind.DIAL, card.call()?.kind)

        // Withdrawn: the button goes off again at once.
        card.setConsent("whatsapp", false, "client_reply", "STOP")
        assertEquals("no consent for whatsapp", card.state.value.actions.first { it.action == "whatsapp" }.reason)
    }

    @Test
    fun theComposerCountsSmsSegmentsAndFillsTemplates(): Unit = runBlocking {
        val book = newBook()
        val c = book.client("Олена", "067 123 45 67")
        book.putTemplate(TemplateRec("", "Нагадування", "sms", "{client_name}, чекаємо вас у {business_name}!"))
        book.putTemplate(TemplateRec("", "Email only", "email", "Dear {client_name}"))
        val card = ClientCardViewModel(book, c.id, Dispatchers.IO)
        val sms = card.composer("sms")
        sms.loadTemplates()
        assertEquals(listOf("Нагадування"), sms.state.templates.map { it.name }, "only templates for SMS or any channel")
        sms.useTemplate(sms.state.templates[0].id)
        assertEquals("Олена, чекаємо вас у Студія!", sms.state.text)
        assertEquals("1 SMS · 28/70 · Unicode", sms.state.smsCounter)
        sms.type("Hello, see you at 10:00")
        assertEquals("1 SMS · 23/160", sms.state.smsCounter)
        sms.type("Привіт ".repeat(11))
        assertEquals("2 SMS · 10/67 · Unicode", sms.state.smsCounter)
        assertNull(card.composer("whatsapp").also { it.type("Привіт") }.state.smsCounter)
    }

    @Test
    fun theCardShowsMoneyAndEditsReachTheBook(): Unit = runBlocking {
        val book = newBook()
        val c = book.client("Олена", "067 123 45 67")
        val card = ClientCardViewModel(book, c.id, Dispatchers.IO)
        card.edit(ClientPatchRec(clientClass = "vip", loyaltyCard = "A-17", discountPercent = 10u, birthday = "--04-15"))
        val s = card.state.value.client!!
        assertEquals(listOf("vip", "A-17", 10.toUByte(), "--04-15"), listOf(s.clientClass, s.loyaltyCard, s.discountPercent, s.birthday))
        assertEquals("0,00\u00a0₴", card.state.value.money?.balance)
        card.edit(ClientPatchRec(birthday = "31.02.1990"))
        assertTrue(card.state.value.error!!.startsWith("Check birthday"), card.state.value.error)
        assertEquals("--04-15", book.getClient(c.id).birthday, "a refused edit changes nothing")
    }

    @Test
    fun theEditFormSavesEveryFieldAndClearsWhatWasEmptied(): Unit = runBlocking {
        val book = newBook()
        val list = ClientListViewModel(book, Dispatchers.IO)
        val id = list.add("Олена Коваленко", "067 123 45 67")!!
        assertEquals(listOf("Олена Коваленко"), list.state.value.rows.map { it.name })
        assertNull(list.add("  ", null), "a client needs a name")
        assertTrue(list.state.value.error!!.startsWith("Check name"), list.state.value.error)

        val card = ClientCardViewModel(book, id, Dispatchers.IO)
        card.load()
        assertTrue(card.state.value.consent.none { it.granted }, "added from the app: every channel off")
        val form = card.form()!!
        card.save(form.copy(phones = "067 123 45 67, +48 601 234 567", email = "olena@example.com", clientClass = "vip",
            tags = "нарощення, манікюр", loyaltyCard = "A-17", discountPercent = "15", comment = "алергія на латекс"))
        val c = card.state.value.client!!
        assertEquals(listOf("+380671234567", "+48601234567"), c.phones.map { it.e164 })
        assertEquals(listOf("vip", "A-17", "алергія на латекс"), listOf(c.clientClass, c.loyaltyCard, c.comment))
        assertEquals(setOf("нарощення", "манікюр"), c.tags.toSet())
        assertEquals(15.toUByte(), c.discountPercent)

        card.save(card.form()!!.copy(email = "", tags = "манікюр", loyaltyCard = ""))
        val d = card.state.value.client!!
        assertEquals(listOf(null, null), listOf(d.email, d.loyaltyCard))
        assertEquals(listOf("манікюр"), d.tags)

        card.save(card.form()!!.copy(discountPercent = "150"))
        assertEquals("Check discount: a whole percent from 0 to 100", card.state.value.error)
        assertEquals(15.toUByte(), book.getClient(id).discountPercent)
    }
}

package app.kartka.app

import app.kartka.core.StaffRec
import java.time.Instant
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue

class InboxTest {
    @Test
    fun aReplyOpensTheConversationAndTheInboxTakesPostponesAndCloses(): Unit = runBlocking {
        val book = newBook()
        val olena = book.putStaff(StaffRec("", "Олена", null, null, true))
        val maria = book.putStaff(StaffRec("", "Марія", null, null, true))
        book.setCurrentStaff(olena)
        val c = book.client("Ірина", "067 123 45 67")
        book.setConsent(c.id, "sms", true, "written", "анкета")

        // The composer sends through the server: queued, and the conversation is Olena's.
        val card = ClientCardViewModel(book, c.id, Dispatchers.IO)
        val composer = card.composer("sms")
        composer.type("Так, о 15:00")
        composer.sendThroughServer()
        assertEquals("queued", composer.state.queued?.status)
        assertEquals("", composer.state.text)
        assertEquals("Так, о 15:00", card.state.value.messages.first().body)

        val inbox = InboxViewModel(book, Dispatchers.IO, me = maria)
        inbox.show(null)
        val row = inbox.state.value.rows.single()
        assertEquals("open", row.status)
        assertEquals("Олена", inbox.state.value.staff[row.staffId])
        inbox.take(c.id)
        assertEquals(maria, inbox.state.value.rows.single().staffId)
        inbox.postpone(c.id, Instant.now().plusSeconds(3600))
        inbox.show("postponed")
        assertEquals(1, inbox.state.value.rows.size)
        inbox.close(c.id)
        inbox.show("unanswered")
        assertTrue(inbox.state.value.rows.isEmpty())
        inbox.note(c.id, "Записала на п'ятницю")
        val notes = inbox.notes(c.id).map { it.body }
        assertEquals("Олена gave the conversation to Марія", notes.first())
        assertEquals("Записала на п'ятницю", notes.last())
        // A postponement into the past is refused with a sentence, not a crash.
        inbox.postpone(c.id, Instant.now().minusSeconds(60))
        assertTrue(inbox.state.value.error!!.startsWith("Check until"))
    }

    @Test
    fun theWhatsAppComposerSaysUpFrontThatOnlyTemplatesGo(): Unit = runBlocking {
        val book = newBook()
        val c = book.client("Ірина", "067 123 45 67")
        book.setConsent(c.id, "whatsapp", true, "written", "анкета")
        val card = ClientCardViewModel(book, c.id, Dispatchers.IO)
        val wa = card.composer("whatsapp")
        wa.loadTemplates()
        assertEquals("Only templates approved by WhatsApp: the client has not written in 24 hours", wa.state.whatsAppNote)
        wa.type("Добрий день")
        wa.sendThroughServer()
        assertNull(wa.state.queued)
        assertTrue(wa.state.error!!.startsWith("The client has not written on WhatsApp"))
        assertNull(card.composer("sms").state.whatsAppNote)
    }
}

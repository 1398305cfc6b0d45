package app.kartka.android

import android.content.Intent
import android.widget.Switch
import app.kartka.app.SetupViewModel
import app.kartka.core.NewClientRec
import org.junit.Test
import org.robolectric.RuntimeEnvironment
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue

/**
 * A master's first day, on the real Activities in Robolectric's Android 15 over the real
 * libkartka_ffi: the studio is set up, a client added, found, opened, asked for consent and
 * written to.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35], application = KartkaTestApp::class, qualifiers = PHONE)
class ClientFlowTest {
    @Test
    fun firstLaunchSetsUpTheStudioAndACyrillicClientIsFoundByPartOfNameAndNumber() {
        // The launcher opens on a book without a business: the set-up screen comes first.
        val launcher = Robolectric.buildActivity(ClientListActivity::class.java).setup().get()
        assertTrue(launcher.isFinishing)
        val setup = launcher.next<SetupActivity>().get()
        type(setup.field("Studio name"), "Студія Олени")
        tap(setup.button("Start"))
        val list = setup.next<ClientListActivity>().get()
        list.waitFor("Студія Олени")

        tap(list.button("New client"))
        val form = dialog()
        type(form.root().field("Name"), "Олена Коваленко")
        type(form.root().field("Phone"), "067 123 45 67")
        tap(form.getButton(android.app.AlertDialog.BUTTON_POSITIVE))
        val card = list.next<ClientCardActivity>().get()
        card.waitFor("Олена Коваленко")
        card.waitFor("067 123 45 67")

        // Part of the name, in another case; then part of the number.
        type(list.field("Name, phone or email"), "олен")
        list.waitFor("Олена Коваленко · ")
        type(list.field("Name, phone or email"), "Марі")
        settle("the list to empty") { list.texts().none { it.startsWith("Олена") } }
        // Numbers are found by how they begin, in any form the master types them.
        type(list.field("Name, phone or email"), "067 12")
        list.waitFor("Олена Коваленко · ")
        tap(list.textStarting("Олена Коваленко"))
        list.next<ClientCardActivity>().get().waitFor("Олена Коваленко")
    }

    @Test
    fun withoutConsentTheMessageButtonsSayWhyAndWithItTheyOpenTheExactLink() {
        val card = cardOf("Олена Коваленко", "067 123 45 67")
        // Call needs no consent: the dialer, number filled in, nothing dialled.
        tap(card.button("Call"))
        val dial = card.started()
        assertEquals(Intent.ACTION_DIAL, dial.action)
        assertEquals("tel:+380671234567", dial.dataString)

        val sms = card.button("SMS")
        assertFalse(sms.isEnabled)
        assertEquals("SMS — no consent for SMS", sms.text.toString())
        assertFalse(card.button("WhatsApp").isEnabled)
        assertEquals("email — no email address", card.button("email").text.toString())

        // Turning SMS on asks how the client agreed; nothing is recorded until it is said.
        val smsSwitch = card.root().tree().filterIsInstance<Switch>().first { it.text.startsWith("SMS") }
        tap(smsSwitch)
        val ask = dialog()
        assertEquals("Consent to SMS: how?", shadowOf(ask).title.toString())
        shadowOf(ask).clickOnItem(1) // written
        type(ask.root().field("Note (form number, message…)"), "анкета 12")
        tap(ask.getButton(android.app.AlertDialog.BUTTON_POSITIVE))
        settle("SMS to be enabled") { card.button("SMS").isEnabled }
        card.waitFor("(written, ")

        // The composer counts segments as the text grows: Cyrillic is UCS-2, 70 to a part.
        val text = card.field("Text")
        type(text, "Привіт")
        card.waitFor("1 SMS · 6/70 · Unicode")
        type(text, "Привіт! ".repeat(9))
        card.waitFor("2 SMS · 5/67 · Unicode")
        type(text, "Do zobaczenia")
        card.waitFor("1 SMS · 13/160")

        tap(card.button("SMS"))
        val open = card.started()
        assertEquals(Intent.ACTION_SENDTO, open.action)
        assertEquals("sms:+380671234567?body=Do%20zobaczenia", open.dataString)
        // Handed over, the message is in the card's history.
        card.waitFor("→ ")
        card.waitFor("Do zobaczenia")
    }
}

/** Robolectric's phone: 411 × 914 dp at 420 dpi is 1080 × 2400 pixels. */
const val PHONE = "w411dp-h914dp-420dpi"

/** A studio in Kyiv set up (as the first launch does) with one client; returns the client's id. */
fun studio(name: String, phone: String): String {
    val book = (RuntimeEnvironment.getApplication() as KartkaApp).book
    book.initBusiness(SetupViewModel.businessFor("Студія", java.util.Locale("uk", "UA"), "Europe/Kyiv"))
    return book.addClient(NewClientRec(name, listOf(phone), null, null, null, null, emptyList())).id
}

/** The card of a client, open. */
fun openCard(id: String, name: String): ClientCardActivity {
    val card = Robolectric.buildActivity(ClientCardActivity::class.java, Intent().putExtra("client", id)).setup().get()
    card.waitFor(name)
    return card
}

/** A studio set up and one client added, their card open. */
fun cardOf(name: String, phone: String): ClientCardActivity = openCard(studio(name, phone), name)

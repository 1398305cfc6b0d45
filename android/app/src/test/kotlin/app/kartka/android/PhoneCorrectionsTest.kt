package app.kartka.android

import android.app.AlertDialog
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowDialog
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertSame
import kotlin.test.assertTrue

/**
 * A phone updated from a Kartka whose phone reader stored a German number as a stranger's and
 * rejected a St Petersburg landline (issue 23): the first card list after the update tells the
 * master, by name, which numbers were corrected, once.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35], application = OldReaderBookApp::class, qualifiers = PHONE)
class PhoneCorrectionsTest {
    private val app get() = RuntimeEnvironment.getApplication() as KartkaApp

    @Test
    fun theListTellsOnceWhichNumbersWereCorrected() {
        val list = Robolectric.buildActivity(ClientListActivity::class.java).setup().get()
        val told = dialog()
        assertEquals("Numbers read again", shadowOf(told).title.toString())
        val message = shadowOf(told).message.toString()
        assertTrue("Анна: +49 89 12345678 — now +498912345678, was +49912345678" in message, message)
        assertTrue("Пётр: 8 (812) 123-45-67 — now +78121234567 (it was not recognised)" in message, message)
        assertFalse("Ольга" in message, "a card read alike is not listed: $message")
        tap(told.getButton(AlertDialog.BUTTON_POSITIVE))
        settle("the corrections marked seen") { app.book.phoneCorrections().isEmpty() }

        // The corrected landline is found as it is written in Russia.
        type(list.field("Name, phone or email"), "8 812 123")
        list.waitFor("Пётр")

        // Told once: the next launch of the list asks nothing.
        val again = Robolectric.buildActivity(ClientListActivity::class.java).setup().get()
        again.waitFor("Анна")
        assertSame(told, ShadowDialog.getLatestDialog())
    }
}

package app.kartka.android

import android.app.Activity
import android.app.AlertDialog
import android.app.Dialog
import android.os.Looper
import android.view.View
import android.view.ViewGroup
import android.widget.Button
import android.widget.EditText
import android.widget.TextView
import org.robolectric.Robolectric
import org.robolectric.Shadows.shadowOf
import org.robolectric.android.controller.ActivityController
import org.robolectric.shadows.ShadowDialog
import kotlin.test.fail

/** What a master sees and touches, found the way they find it: by the words on the screen. */

fun View.tree(): Sequence<View> = sequence {
    yield(this@tree)
    if (this@tree is ViewGroup) for (i in 0 until childCount) yieldAll(getChildAt(i).tree())
}

/** Every visible text of a screen (labels, buttons, fields, switches), top to bottom. */
fun View.texts(): List<String> =
    tree().filter { it.isShown }.mapNotNull { (it as? TextView)?.text?.toString() }.filter { it.isNotEmpty() }.toList()

fun Activity.root(): View = window.decorView
fun Activity.texts(): List<String> = root().texts()

fun View.button(label: String): Button =
    tree().filterIsInstance<Button>().firstOrNull { it.isShown && it.text.toString().startsWith(label) }
        ?: fail("no button \"$label\" among ${texts()}")

fun View.field(hint: String): EditText =
    tree().filterIsInstance<EditText>().firstOrNull { it.hint?.toString() == hint }
        ?: fail("no field \"$hint\" among ${tree().filterIsInstance<EditText>().map { it.hint }.toList()}")

fun View.textStarting(prefix: String): TextView =
    tree().filterIsInstance<TextView>().firstOrNull { it.isShown && it.text.toString().startsWith(prefix) }
        ?: fail("no text starting \"$prefix\" among ${texts()}")

fun Activity.button(label: String) = root().button(label)
fun Activity.field(hint: String) = root().field(hint)
fun Activity.textStarting(prefix: String) = root().textStarting(prefix)

/**
 * Runs the main looper until [condition] holds. The book's calls run on Dispatchers.IO (real
 * threads, as on a phone), so a screen updates some time after a tap; the bound only stops a
 * broken flow from hanging the build.
 */
fun settle(what: String = "the screen", condition: () -> Boolean) {
    repeat(3000) {
        shadowOf(Looper.getMainLooper()).idle()
        if (condition()) return
        Thread.sleep(10)
    }
    fail("$what never came")
}

/**
 * How the agenda heads a day, by Java's own CLDR data rather than the core's: an independent
 * check that the screen says "четвер, 3 грудня 2026", the month in its genitive.
 */
fun dayHeading(day: java.time.LocalDate, language: String): String =
    day.format(java.time.format.DateTimeFormatter.ofPattern("EEEE, d MMMM yyyy", java.util.Locale.forLanguageTag(language)))
        // Java's CLDR writes "пʼятниця" with the modifier letter apostrophe (U+02BC), the core's
        // chrono data with the typewriter one: both are Ukrainian; the check is of the words.
        .replace('\u02bc', '\'')

fun Activity.waitFor(text: String) = settle("\"$text\" on ${javaClass.simpleName} (shown: ${texts()})") {
    texts().any { it.contains(text) }
}

fun type(field: EditText, text: String) {
    field.setText(text)
    shadowOf(Looper.getMainLooper()).idle()
}

fun tap(view: View) {
    check(view.isEnabled) { "\"${(view as? TextView)?.text}\" is disabled" }
    view.performClick()
    shadowOf(Looper.getMainLooper()).idle()
}

/** The dialog on top, once it is showing. */
fun dialog(): AlertDialog {
    var d: Dialog? = null
    settle("a dialog") { d = ShadowDialog.getLatestDialog()?.takeIf { it.isShowing }; d != null }
    return d as AlertDialog
}

fun AlertDialog.root(): View = window!!.decorView

/** Starts [T] as the next Activity the current one asked for, created, started and resumed. */
inline fun <reified T : Activity> Activity.next(): ActivityController<T> {
    val intent = started()
    check(intent.component?.className == T::class.java.name) { "started ${intent.component}, not ${T::class.java.simpleName}" }
    return Robolectric.buildActivity(T::class.java, intent).setup()
}

/** The Intent the Activity handed to the system next (another app's Activity, on a phone). */
fun Activity.started(): android.content.Intent {
    settle("${javaClass.simpleName} to start an Activity") { shadowOf(this).peekNextStartedActivity() != null }
    return shadowOf(this).nextStartedActivity
}

package app.kartka.android

import android.app.Activity
import android.app.AlertDialog
import android.content.ActivityNotFoundException
import android.content.Context
import android.content.Intent
import android.net.Uri
import android.os.Bundle
import android.text.Editable
import android.text.TextWatcher
import android.view.View
import android.view.ViewGroup
import android.widget.Button
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView
import android.widget.Toast
import app.kartka.app.LaunchSpec
import app.kartka.app.Strings
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.MainScope
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch

/**
 * The base of every screen: a coroutine scope on the main thread that dies with the Activity,
 * and a vertical page built in code. Views are built programmatically (no XML, no generated R
 * class), so the framework code compiles against Android's API jar alone.
 */
abstract class ScreenActivity : Activity() {
    protected val scope: CoroutineScope = MainScope()
    protected lateinit var page: LinearLayout

    /** The words of this screen in the device's language (uk, ru, pl; English otherwise). */
    protected val s: Strings by lazy { strings }

    override fun onCreate(savedInstanceState: Bundle?) {
        // Light or dark as the phone is set; the framework's own DayNight theme (API 29+).
        setTheme(if (android.os.Build.VERSION.SDK_INT >= 29) android.R.style.Theme_DeviceDefault_DayNight else android.R.style.Theme_DeviceDefault_Light)
        super.onCreate(savedInstanceState)
        title = s["app.name"]
        page = LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            setPadding(dp(16), dp(16), dp(16), dp(16))
        }
        setContentView(ScrollView(this).apply { addView(page) })
    }

    override fun onDestroy() {
        scope.cancel()
        super.onDestroy()
    }

    /** Renders every new state of a view-model. */
    protected fun <S> StateFlow<S>.render(block: (S) -> Unit) {
        scope.launch { collect { block(it) } }
    }

    protected fun dp(v: Int): Int = (v * resources.displayMetrics.density).toInt()

    protected fun text(s: String = "", size: Float = 16f): TextView =
        TextView(this).apply { text = s; textSize = size }

    protected fun button(label: String, onClick: suspend () -> Unit): Button =
        Button(this).apply {
            text = label
            // Names and numbers read as typed, not in capitals.
            isAllCaps = false
            minHeight = dp(48)
            setOnClickListener { scope.launch { onClick() } }
        }

    protected fun field(hint: String, onChange: ((String) -> Unit)? = null): EditText =
        EditText(this).apply {
            this.hint = hint
            minHeight = dp(48)
            if (onChange != null) addTextChangedListener(object : TextWatcher {
                override fun afterTextChanged(s: Editable) = onChange(s.toString())
                override fun beforeTextChanged(s: CharSequence, a: Int, b: Int, c: Int) {}
                override fun onTextChanged(s: CharSequence, a: Int, b: Int, c: Int) {}
            })
        }

    /** A line of a list that opens something: a whole finger's height (48 dp) to hit. */
    protected fun entry(s: String, onClick: () -> Unit): TextView =
        text(s).apply {
            minHeight = dp(48)
            gravity = android.view.Gravity.CENTER_VERTICAL
            setPadding(0, dp(8), 0, dp(8))
            setOnClickListener { onClick() }
        }

    protected fun row(vararg views: View): LinearLayout =
        LinearLayout(this).apply {
            orientation = LinearLayout.HORIZONTAL
            views.forEach { addView(it, LinearLayout.LayoutParams(0, ViewGroup.LayoutParams.WRAP_CONTENT, 1f)) }
        }

    protected fun section(title: String): LinearLayout {
        page.addView(text(title, 20f).apply { setPadding(0, dp(16), 0, dp(4)) })
        return LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }.also { page.addView(it) }
    }

    protected fun toast(s: String) = Toast.makeText(this, s, Toast.LENGTH_LONG).show()

    protected fun choose(title: String, options: List<String>, onChoice: (Int) -> Unit) {
        AlertDialog.Builder(this)
            .setTitle(title)
            .setItems(options.toTypedArray()) { _, which -> onChoice(which) }
            .show()
    }
}

/**
 * Hands a link to the phone: `ACTION_DIAL` for calls (no CALL_PHONE permission: the master
 * presses call), `ACTION_SENDTO` for SMS and email, `ACTION_VIEW` for messengers. Returns
 * false, with a message, when no installed app takes it.
 */
fun Context.launch(spec: LaunchSpec): Boolean =
    try {
        startActivity(Intent(spec.androidAction, Uri.parse(spec.uri)).addFlags(Intent.FLAG_ACTIVITY_NEW_TASK))
        true
    } catch (e: ActivityNotFoundException) {
        Toast.makeText(this, strings["launch.no_app"], Toast.LENGTH_LONG).show()
        false
    }

/** The apps' words in the language the phone is set to. */
val Context.strings: Strings get() = Strings.of(resources.configuration.locales[0].language)

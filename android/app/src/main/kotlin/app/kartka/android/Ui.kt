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
import app.kartka.app.SyncTone
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

    /** The page's frame: pulled down at the top, it syncs once a screen gives it [PullToRefresh.onRefresh]. */
    protected lateinit var pull: PullToRefresh

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
        pull = PullToRefresh(this, ScrollView(this).apply { addView(page) }, s["sync.now"])
        setContentView(pull)
    }

    /**
     * The quiet sync line ("Synced 2 min ago", "Offline — 3 changes waiting"), worded by
     * app-logic's [app.kartka.app.SyncLineWords] from the book's status, and the pull to
     * refresh that syncs now (a tap on the line does the same, for those who do not drag).
     * [afterSync] reloads what the screen shows.
     */
    protected fun syncLine(afterSync: suspend () -> Unit): TextView {
        val line = text(size = 13f).apply {
            minHeight = dp(48)
            gravity = android.view.Gravity.CENTER_VERTICAL
            setOnClickListener { scope.launch { if (kartka.sync.syncNow()) afterSync() } }
        }
        val quiet = line.textColors
        fun show() {
            val l = kartka.sync.line() ?: return
            line.text = l.text
            when (l.tone) {
                SyncTone.QUIET, SyncTone.BUSY -> line.setTextColor(quiet)
                SyncTone.WAITING -> line.setTextColor(0xFFB26A00.toInt())
                SyncTone.PROBLEM -> line.setTextColor(0xFFC62828.toInt())
            }
        }
        kartka.sync.state.render { show() }
        // "2 min ago" ages while the screen is open.
        scope.launch { while (true) { kotlinx.coroutines.delay(30_000); show() } }
        pull.onRefresh = { scope.launch { if (kartka.sync.syncNow()) afterSync() } }
        return line
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

package app.kartka.android

import android.content.Context
import android.view.View
import android.view.ViewGroup
import android.widget.Button
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView
import app.kartka.app.CardConflict
import app.kartka.app.Strings

/**
 * The card's "edits made on two phones at once" (issue 24), near the top of the card: for
 * each field two phones changed apart, who wrote which value, a "Keep this" beside each and
 * "Keep both numbers" for phone lists. Hidden while there is nothing to settle. Its own file so
 * the card Activity only places it and hands it the state.
 */
class ConflictsSection(private val context: Context, private val s: Strings) {
    val view = LinearLayout(context).apply {
        orientation = LinearLayout.VERTICAL
        visibility = View.GONE
    }

    /** [settle] gets the field and the value's index, or null for every number. */
    fun show(conflicts: List<CardConflict>, settle: (String, UInt?) -> Unit) {
        val appeared = view.visibility != View.VISIBLE && conflicts.isNotEmpty()
        view.removeAllViews()
        view.visibility = if (conflicts.isEmpty()) View.GONE else View.VISIBLE
        if (conflicts.isEmpty()) return
        // The composer's field has the focus and the page scrolls to keep it in view; pushed
        // down by this section, it would scroll the client's name off the top. The name and
        // what to settle come first.
        if (appeared) view.post { generateSequence(view.parent) { it.parent }.filterIsInstance<ScrollView>().firstOrNull()?.scrollTo(0, 0) }
        view.addView(text(s["conflict.heading"], 20f).apply { setPadding(0, dp(16), 0, dp(4)) })
        for (c in conflicts) {
            view.addView(text(c.title).apply { setPadding(0, dp(8), 0, 0) })
            for (choice in c.choices) {
                val keep = button(choice.keep) { settle(c.field, choice.index) }.apply { contentDescription = choice.describe }
                view.addView(LinearLayout(context).apply {
                    orientation = LinearLayout.HORIZONTAL
                    gravity = android.view.Gravity.CENTER_VERTICAL
                    addView(text(choice.line), LinearLayout.LayoutParams(0, ViewGroup.LayoutParams.WRAP_CONTENT, 1f))
                    addView(keep, LinearLayout.LayoutParams(ViewGroup.LayoutParams.WRAP_CONTENT, ViewGroup.LayoutParams.WRAP_CONTENT))
                })
            }
            c.keepAll?.let { label -> view.addView(button(label) { settle(c.field, null) }) }
        }
    }

    private fun dp(v: Int): Int = (v * context.resources.displayMetrics.density).toInt()

    private fun text(words: String, size: Float = 16f): TextView =
        TextView(context).apply { text = words; textSize = size }

    /** As ScreenActivity's: names read as typed, a finger's height. */
    private fun button(label: String, onClick: () -> Unit): Button =
        Button(context).apply {
            text = label
            isAllCaps = false
            minHeight = dp(48)
            setOnClickListener { onClick() }
        }
}

package app.kartka.android

import android.content.Context
import android.view.Gravity
import android.view.MotionEvent
import android.view.ViewConfiguration
import android.view.ViewGroup
import android.widget.FrameLayout
import android.widget.ScrollView
import android.widget.TextView

/**
 * Pull to refresh for a page built in code. AndroidX's SwipeRefreshLayout is not here (the app
 * takes no AndroidX) and the framework has no such widget, so this is the gesture alone: at the
 * top of [content], a drag down past [TRIGGER_DP] (the page follows the finger at half speed,
 * with [label] shown above it) and a release call [onRefresh]. A drag that starts on a button
 * takes it over once it moves further than the touch slop, as a scroll would.
 */
class PullToRefresh(context: Context, private val content: ScrollView, label: String) : FrameLayout(context) {
    /** Null: the gesture is off and the page scrolls as any other. */
    var onRefresh: (() -> Unit)? = null

    private val density = resources.displayMetrics.density
    private val slop = ViewConfiguration.get(context).scaledTouchSlop
    private val trigger = TRIGGER_DP * density
    private var startY = 0f
    private var pulling = false

    private val hint = TextView(context).apply {
        text = "↓ $label"
        gravity = Gravity.CENTER
        textSize = 14f
        alpha = 0f
        importantForAccessibility = IMPORTANT_FOR_ACCESSIBILITY_NO
    }

    init {
        addView(hint, LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, (trigger).toInt(), Gravity.TOP))
        addView(content, LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.MATCH_PARENT))
    }

    private fun atTop() = !content.canScrollVertically(-1)

    override fun onInterceptTouchEvent(e: MotionEvent): Boolean {
        if (onRefresh == null) return false
        when (e.actionMasked) {
            MotionEvent.ACTION_DOWN -> { startY = e.y; pulling = false }
            MotionEvent.ACTION_MOVE -> if (!pulling && atTop() && e.y - startY > slop) pulling = true
            MotionEvent.ACTION_UP, MotionEvent.ACTION_CANCEL -> pulling = false
        }
        return pulling
    }

    override fun onTouchEvent(e: MotionEvent): Boolean {
        if (onRefresh == null) return false
        when (e.actionMasked) {
            // Nothing under the finger took it (an empty part of the page): follow from here.
            MotionEvent.ACTION_DOWN -> { startY = e.y; pulling = atTop(); return pulling }
            MotionEvent.ACTION_MOVE -> {
                val d = ((e.y - startY) / 2).coerceIn(0f, trigger * 1.5f)
                content.translationY = d
                hint.alpha = (d / trigger).coerceAtMost(1f)
            }
            MotionEvent.ACTION_UP -> {
                val fire = content.translationY >= trigger
                release()
                if (fire) onRefresh?.invoke()
            }
            MotionEvent.ACTION_CANCEL -> release()
        }
        return true
    }

    private fun release() {
        content.translationY = 0f
        hint.alpha = 0f
        pulling = false
    }

    companion object {
        const val TRIGGER_DP = 72
    }
}

package app.kartka.android

import android.os.Bundle
import android.widget.LinearLayout
import app.kartka.app.MessageLogViewModel
import kotlinx.coroutines.launch

/** Every message of the business, newest first; "Failed" is one tap away. */
class MessageLogActivity : ScreenActivity() {
    private lateinit var vm: MessageLogViewModel

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        vm = MessageLogViewModel(kartka.book, kartka.io)
        page.addView(row(
            button(s["log.all"]) { vm.filter() },
            button(s["log.failed"]) { vm.filter(status = "failed") },
            button(s["log.replies"]) { vm.filter(kind = "inbound") },
            button(s["log.sms"]) { vm.filter(channel = "sms") },
        ))
        val list = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        page.addView(list)
        page.addView(button(s["list.more"]) { vm.loadMore() })
        vm.state.render { st ->
            list.removeAllViews()
            st.error?.let { list.addView(text(it)) }
            for (l in st.rows) {
                val m = l.message
                val arrow = if (m.kind == "inbound") "←" else "→"
                list.addView(text("$arrow ${m.at.take(16).replace('T', ' ')} · ${l.clientName} · ${s.channel(m.channel)} · ${s.status(m.status)}" +
                    (m.detail?.let { "\n$it" } ?: "") + "\n${m.body}").apply { setPadding(0, dp(6), 0, dp(6)) })
            }
        }
        scope.launch { vm.filter() }
    }
}

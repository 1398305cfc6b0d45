package app.kartka.android

import android.os.Bundle
import android.widget.LinearLayout
import app.kartka.app.MessageLogViewModel
import app.kartka.app.channelLabel
import kotlinx.coroutines.launch

/** Every message of the business, newest first; "Failed" is one tap away. */
class MessageLogActivity : ScreenActivity() {
    private lateinit var vm: MessageLogViewModel

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        vm = MessageLogViewModel(kartka.book, kartka.io)
        page.addView(row(
            button("All") { vm.filter() },
            button("Failed") { vm.filter(status = "failed") },
            button("Replies") { vm.filter(kind = "inbound") },
            button("SMS") { vm.filter(channel = "sms") },
        ))
        val list = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        page.addView(list)
        page.addView(button("More") { vm.loadMore() })
        vm.state.render { s ->
            list.removeAllViews()
            s.error?.let { list.addView(text(it)) }
            for (l in s.rows) {
                val m = l.message
                val arrow = if (m.kind == "inbound") "←" else "→"
                list.addView(text("$arrow ${m.at.take(16).replace('T', ' ')} · ${l.clientName} · ${channelLabel(m.channel)} · ${m.status}" +
                    (m.detail?.let { "\n$it" } ?: "") + "\n${m.body}").apply { setPadding(0, dp(6), 0, dp(6)) })
            }
        }
        scope.launch { vm.filter() }
    }
}

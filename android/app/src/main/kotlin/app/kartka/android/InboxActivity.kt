package app.kartka.android

import android.content.Intent
import android.os.Bundle
import android.widget.LinearLayout
import app.kartka.app.InboxViewModel
import app.kartka.app.channelLabel
import java.time.Instant
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

/**
 * Conversations by status; a row opens the client's card to answer. Take, postpone (to
 * tomorrow morning), close; a lead (someone who wrote without being a client) is taken in as
 * a new client or attached to one found by name.
 */
class InboxActivity : ScreenActivity() {
    private lateinit var vm: InboxViewModel

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        vm = InboxViewModel(kartka.book, kartka.io, me = kartka.book.currentStaff())
        page.addView(row(
            button("Unanswered") { vm.show("unanswered") },
            button("Open") { vm.show("open") },
            button("Later") { vm.show("postponed") },
            button("All") { vm.show(null) },
        ))
        val list = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        page.addView(list)
        vm.state.render { s ->
            list.removeAllViews()
            s.error?.let { list.addView(text(it)) }
            for (e in s.rows) {
                val who = e.staffId?.let { s.staff[it] }?.let { " · $it" } ?: ""
                val arrow = if (e.lastKind == "inbound") "←" else "→"
                list.addView(text("${e.name}${if (e.lead) " (new)" else ""} · ${e.status}$who\n" +
                    "$arrow ${e.lastChannel?.let(::channelLabel) ?: ""}: ${e.lastBody ?: ""}").apply {
                    setPadding(0, dp(8), 0, dp(2))
                    setOnClickListener {
                        startActivity(Intent(this@InboxActivity, ClientCardActivity::class.java).putExtra("client", e.clientId))
                    }
                })
                val actions = mutableListOf(
                    button("Take") { vm.take(e.clientId) },
                    button("Tomorrow") { vm.postpone(e.clientId, Instant.now().plusSeconds(18 * 3600)) },
                    button("Close") { vm.close(e.clientId) },
                )
                if (e.lead) {
                    actions += button("New client") { vm.takeIn(e.clientId, null) }
                    actions += button("Attach…") { attach(e.clientId) }
                }
                list.addView(row(*actions.toTypedArray()))
            }
        }
        scope.launch { vm.load() }
    }

    /** Attach a lead to a client found by name or phone. */
    private suspend fun attach(leadId: String) {
        val found = withContext(kartka.io) { kartka.book.findClients("", null, null, 0u, 50u) }
        choose("Attach to", found.map { it.name }) { i ->
            scope.launch { vm.attach(leadId, found[i].id) }
        }
    }
}

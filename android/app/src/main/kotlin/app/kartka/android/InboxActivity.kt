package app.kartka.android

import android.content.Intent
import android.os.Bundle
import android.widget.LinearLayout
import app.kartka.app.InboxViewModel
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
            button(s["inbox.unanswered"]) { vm.show("unanswered") },
            button(s["inbox.open"]) { vm.show("open") },
            button(s["inbox.later"]) { vm.show("postponed") },
            button(s["inbox.all"]) { vm.show(null) },
        ))
        val list = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        page.addView(list)
        vm.state.render { st ->
            list.removeAllViews()
            st.error?.let { list.addView(text(it)) }
            for (e in st.rows) {
                val who = e.staffId?.let { st.staff[it] }?.let { " · $it" } ?: ""
                val arrow = if (e.lastKind == "inbound") "←" else "→"
                list.addView(entry("${e.name}${if (e.lead) " " + s["inbox.lead"] else ""} · ${s.status(e.status)}$who\n" +
                    "$arrow ${e.lastChannel?.let(s::channel) ?: ""}: ${e.lastBody ?: ""}") {
                    startActivity(Intent(this@InboxActivity, ClientCardActivity::class.java).putExtra("client", e.clientId))
                })
                val actions = mutableListOf(
                    button(s["inbox.take"]) { vm.take(e.clientId) },
                    button(s["inbox.tomorrow"]) { vm.postpone(e.clientId, Instant.now().plusSeconds(18 * 3600)) },
                    button(s["inbox.close"]) { vm.close(e.clientId) },
                )
                if (e.lead) {
                    actions += button(s["inbox.new_client"]) { vm.takeIn(e.clientId, null) }
                    actions += button(s["inbox.attach"]) { attach(e.clientId) }
                }
                list.addView(row(*actions.toTypedArray()))
            }
        }
        scope.launch { vm.load() }
    }

    /** Attach a lead to a client found by name or phone. */
    private suspend fun attach(leadId: String) {
        val found = withContext(kartka.io) { kartka.book.findClients("", null, null, 0u, 50u) }
        choose(s["inbox.attach_to"], found.map { it.name }) { i ->
            scope.launch { vm.attach(leadId, found[i].id) }
        }
    }
}

package app.kartka.android

import android.content.Intent
import android.os.Bundle
import android.widget.LinearLayout
import app.kartka.app.ClientListViewModel
import app.kartka.core.ChangeListener
import kotlinx.coroutines.launch

/** The launcher screen: instant search, class and tag filters, the VIP mark, the sync line. */
class ClientListActivity : ScreenActivity() {
    private lateinit var vm: ClientListViewModel

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        // The first launch has a book without a business: set up the studio first.
        if (!kartka.hasBusiness()) {
            startActivity(Intent(this, SetupActivity::class.java))
            finish()
            return
        }
        vm = ClientListViewModel(kartka.book, kartka.io)
        page.addView(text(kartka.book.business().name, 22f))
        // Pulled down (or the line tapped): sync now; the list refreshes through the change listener too.
        page.addView(syncLine { vm.refresh() })
        page.addView(row(
            button(s["list.agenda"]) { startActivity(Intent(this, AgendaActivity::class.java)) },
            button(s["list.import"]) { startActivity(Intent(this, ImportActivity::class.java)) },
            button(s["list.inbox"]) { startActivity(Intent(this, InboxActivity::class.java)) },
            button(s["list.messages"]) { startActivity(Intent(this, MessageLogActivity::class.java)) },
            button(s["list.settings"]) { startActivity(Intent(this, SettingsActivity::class.java)) },
        ))
        page.addView(button(s["list.new_client"]) { newClient() })
        page.addView(field(s["list.search"]) { q -> scope.launch { vm.search(q) } })
        page.addView(row(
            button(s["list.all"]) { vm.filter(null, null) },
            button(s["list.vip"]) { vm.filter("vip", vm.state.value.tag) },
            field(s["list.tag"]) { t -> scope.launch { vm.filter(vm.state.value.clientClass, t.ifBlank { null }) } },
        ))
        val list = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        page.addView(list)
        page.addView(button(s["list.more"]) { vm.loadMore() })

        vm.state.render { st ->
            list.removeAllViews()
            st.error?.let { list.addView(text(it)) }
            for (r in st.rows) {
                val line = buildString {
                    if (r.vip) append("★ ")
                    append(r.name)
                    r.contact?.let { append(" · ").append(it) }
                    r.owes?.let { append(" · ").append(s.format("list.owes", it)) }
                    if (r.tags.isNotEmpty()) append(" · #").append(r.tags.joinToString(" #"))
                }
                list.addView(entry(line) {
                    startActivity(Intent(this@ClientListActivity, ClientCardActivity::class.java).putExtra("client", r.id))
                })
            }
        }
        kartka.sync.state.render { st -> st.notice?.let { toast(it); kartka.sync.noticeShown() } }
        // Edits here and those arriving from other phones refresh the list.
        kartka.book.setChangeListener(object : ChangeListener {
            override fun clientsChanged(clientIds: List<String>) {
                runOnUiThread { scope.launch { vm.refresh() } }
            }
        })
        scope.launch { vm.search("") }
        scope.launch { showCorrections() }
    }

    /** Once after an upgrade: the cards whose numbers the new reader corrected, by name. */
    private suspend fun showCorrections() {
        val fixed = vm.corrections().takeIf { it.isNotEmpty() } ?: return
        val lines = fixed.joinToString("\n") { c ->
            when {
                c.was != null && c.now != null -> s.format("corrections.changed", c.name, c.raw, c.now, c.was)
                c.now != null -> s.format("corrections.found", c.name, c.raw, c.now)
                else -> s.format("corrections.lost", c.name, c.raw, c.was)
            }
        }
        android.app.AlertDialog.Builder(this).setTitle(s["corrections.title"])
            .setMessage(s["corrections.intro"] + "\n\n" + lines)
            .setPositiveButton(s["common.ok"]) { _, _ -> scope.launch { vm.correctionsSeen() } }
            .setCancelable(false)
            .show()
    }

    /** Name and number; consent is recorded on the card, with its source. */
    private fun newClient() {
        val name = field(s["client.name"])
        val phone = field(s["client.phone"]).apply { inputType = android.text.InputType.TYPE_CLASS_PHONE }
        val form = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL; addView(name); addView(phone) }
        android.app.AlertDialog.Builder(this).setTitle(s["list.new_client"]).setView(form)
            .setPositiveButton(s["client.add"]) { _, _ ->
                scope.launch {
                    val id = vm.add(name.text.toString(), phone.text.toString()) ?: return@launch toast(vm.state.value.error ?: "")
                    startActivity(Intent(this@ClientListActivity, ClientCardActivity::class.java).putExtra("client", id))
                }
            }
            .show()
    }
}

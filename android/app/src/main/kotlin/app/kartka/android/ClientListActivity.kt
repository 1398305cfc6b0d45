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
        val syncLine = text(size = 12f)
        page.addView(syncLine)
        page.addView(row(
            button("Agenda") { startActivity(Intent(this, AgendaActivity::class.java)) },
            button("Import") { startActivity(Intent(this, ImportActivity::class.java)) },
            button("Inbox") { startActivity(Intent(this, InboxActivity::class.java)) },
            button("Messages") { startActivity(Intent(this, MessageLogActivity::class.java)) },
            button("Settings") { startActivity(Intent(this, SettingsActivity::class.java)) },
        ))
        page.addView(button("New client") { newClient() })
        page.addView(field("Name, phone or email") { q -> scope.launch { vm.search(q) } })
        page.addView(row(
            button("All") { vm.filter(null, null) },
            button("★ VIP") { vm.filter("vip", vm.state.value.tag) },
            field("Tag") { t -> scope.launch { vm.filter(vm.state.value.clientClass, t.ifBlank { null }) } },
        ))
        val list = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        page.addView(list)
        page.addView(button("More") { vm.loadMore() })

        vm.state.render { s ->
            list.removeAllViews()
            s.error?.let { list.addView(text(it)) }
            for (r in s.rows) {
                val line = buildString {
                    if (r.vip) append("★ ")
                    append(r.name)
                    r.contact?.let { append(" · ").append(it) }
                    r.owes?.let { append(" · owes ").append(it) }
                    if (r.tags.isNotEmpty()) append(" · #").append(r.tags.joinToString(" #"))
                }
                list.addView(text(line).apply {
                    setPadding(0, dp(8), 0, dp(8))
                    setOnClickListener {
                        startActivity(Intent(this@ClientListActivity, ClientCardActivity::class.java).putExtra("client", r.id))
                    }
                })
            }
        }
        kartka.sync.state.render { s ->
            syncLine.text = s.progress ?: s.lastError?.let { "Offline: $it" }
                ?: s.lastSynced?.let { "Synced ${android.text.format.DateUtils.getRelativeTimeSpanString(it.toEpochMilli())}" }
                ?: "Not synced yet"
            s.notice?.let { toast(it); kartka.sync.noticeShown() }
        }
        // Edits here and those arriving from other phones refresh the list.
        kartka.book.setChangeListener(object : ChangeListener {
            override fun clientsChanged(clientIds: List<String>) {
                runOnUiThread { scope.launch { vm.refresh() } }
            }
        })
        scope.launch { vm.search("") }
    }

    /** Name and number; consent is recorded on the card, with its source. */
    private fun newClient() {
        val name = field("Name")
        val phone = field("Phone").apply { inputType = android.text.InputType.TYPE_CLASS_PHONE }
        val form = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL; addView(name); addView(phone) }
        android.app.AlertDialog.Builder(this).setTitle("New client").setView(form)
            .setPositiveButton("Add") { _, _ ->
                scope.launch {
                    val id = vm.add(name.text.toString(), phone.text.toString()) ?: return@launch toast(vm.state.value.error ?: "")
                    startActivity(Intent(this@ClientListActivity, ClientCardActivity::class.java).putExtra("client", id))
                }
            }
            .show()
    }
}

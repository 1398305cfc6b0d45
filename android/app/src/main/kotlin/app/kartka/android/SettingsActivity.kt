package app.kartka.android

import android.os.Build
import android.os.Bundle
import android.widget.LinearLayout
import android.widget.Switch
import app.kartka.app.SettingsViewModel
import app.kartka.app.WEEKDAY_LABELS
import app.kartka.core.TemplateRec
import kotlinx.coroutines.launch

/**
 * Business details, working hours, templates, notification rules, pairing and devices.
 * Scanning the owner's QR code with the phone's camera opens `kartka://pair?…`, which lands
 * here (see the manifest's intent filter) with the server and code filled in.
 */
class SettingsActivity : ScreenActivity() {
    private lateinit var vm: SettingsViewModel

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        vm = SettingsViewModel(kartka.book, kartka.io)
        val error = text()
        page.addView(error)

        val business = section("Business")
        val name = field("Name"); val phone = field("Phone")
        business.addView(name); business.addView(phone)
        business.addView(button("Save") { vm.setDetails(name.text.toString(), phone.text.toString()) })

        val hours = section("Working hours")
        val hourFields = WEEKDAY_LABELS.map { field(it) }
        hourFields.forEachIndexed { i, f ->
            hours.addView(row(text(WEEKDAY_LABELS[i]), f, button("Set") { vm.setHours(i, f.text.toString()) }))
        }

        val templates = section("Templates")
        val tName = field("Name"); val tBody = field("Text, e.g. {client_name}, see you at {visit_time}")
        val templateList = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        templates.addView(templateList); templates.addView(tName); templates.addView(tBody)
        templates.addView(button("Add template") { vm.saveTemplate(TemplateRec("", tName.text.toString(), null, tBody.text.toString())) })

        val rules = section("Notifications")

        val sync = section("Sync")
        val status = text()
        val server = field("Server, e.g. https://sync.example.com")
        val code = field("Code from the owner's phone")
        sync.addView(status); sync.addView(server); sync.addView(code)
        val device = Build.MODEL ?: "Android"
        sync.addView(row(
            button("Create business on server") { 
                vm.createOnServer(server.text.toString(), device)
                if (vm.state.value.error == null) kartka.sync.start(kartka.syncWaitSeconds)
            },
            button("Join") { if (vm.join(code.text.toString(), server.text.toString(), device)) kartka.sync.start(kartka.syncWaitSeconds) },
        ))
        sync.addView(button("Invite another phone") { vm.invite() })
        val invite = text()
        sync.addView(invite)
        val devices = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        sync.addView(button("Devices") { vm.loadDevices() })
        sync.addView(devices)

        vm.state.render { s ->
            error.text = s.error ?: ""
            s.business?.let { b ->
                if (name.text.isEmpty()) name.setText(b.name)
                if (phone.text.isEmpty()) phone.setText(b.phone ?: "")
                hourFields.forEachIndexed { i, f -> if (f.text.isEmpty()) f.setText(b.workingHours[i]) }
            }
            templateList.removeAllViews()
            s.templates.forEach { t ->
                templateList.addView(row(text("${t.name}: ${t.body}"), button("Remove") { vm.removeTemplate(t.id) }))
            }
            rules.removeAllViews()
            s.rules.forEach { r ->
                rules.addView(Switch(this).apply {
                    text = "${r.name} (${r.channels.joinToString()})"
                    isChecked = r.enabled
                    setOnCheckedChangeListener { _, on -> scope.launch { vm.setRuleEnabled(r.id, on) } }
                })
            }
            status.text = s.sync?.let { i ->
                if (i.paired) "Paired with ${i.server}; ${i.unsynced} changes waiting" else "Not paired: this phone works alone"
            } ?: ""
            invite.text = s.invite?.let { "Code ${it.code} (until ${it.expiresAt.take(16)})\n${s.inviteQr ?: ""}" } ?: ""
            devices.removeAllViews()
            s.devices.forEach { d ->
                devices.addView(row(
                    text("${d.name}${if (d.owner) " (owner)" else ""}${if (d.revoked) " — removed" else ""}\nlast seen ${d.lastSeen?.take(16) ?: "never"}"),
                    button("Remove") { vm.revoke(d.id) }.apply { isEnabled = !d.revoked && !d.owner },
                ))
            }
        }
        scope.launch {
            vm.load()
            // Opened from a scanned pairing QR code.
            intent?.data?.toString()?.takeIf { it.startsWith("kartka://pair") }?.let { code.setText(it) }
        }
    }
}

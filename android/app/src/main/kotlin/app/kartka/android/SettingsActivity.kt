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

        val business = section(s["settings.business"])
        val name = field(s["settings.name"]); val phone = field(s["settings.phone"])
        business.addView(name); business.addView(phone)
        business.addView(button(s["common.save"]) { vm.setDetails(name.text.toString(), phone.text.toString()) })

        val hours = section(s["settings.hours"])
        // The weekday's name in the phone's language, from the JDK's CLDR data.
        val days = WEEKDAY_LABELS.indices.map {
            java.time.DayOfWeek.of(it + 1).getDisplayName(java.time.format.TextStyle.FULL_STANDALONE, resources.configuration.locales[0])
        }
        val hourFields = days.map { field(it) }
        hourFields.forEachIndexed { i, f ->
            hours.addView(row(text(days[i]), f, button(s["settings.set"]) { vm.setHours(i, f.text.toString()) }))
        }

        val templates = section(s["settings.templates"])
        val tName = field(s["settings.template_name"]); val tBody = field(s["settings.template_text"])
        val templateList = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        templates.addView(templateList); templates.addView(tName); templates.addView(tBody)
        templates.addView(button(s["settings.add_template"]) { vm.saveTemplate(TemplateRec("", tName.text.toString(), null, tBody.text.toString())) })

        val rules = section(s["settings.notifications"])

        val sync = section(s["settings.sync"])
        val status = text()
        val server = field(s["settings.server"])
        val code = field(s["settings.code"])
        sync.addView(status); sync.addView(server); sync.addView(code)
        val device = Build.MODEL ?: "Android"
        sync.addView(row(
            button(s["settings.create"]) { 
                vm.createOnServer(server.text.toString(), device)
                if (vm.state.value.error == null) kartka.sync.start(kartka.syncWaitSeconds)
            },
            button(s["settings.join"]) { if (vm.join(code.text.toString(), server.text.toString(), device)) kartka.sync.start(kartka.syncWaitSeconds) },
        ))
        sync.addView(button(s["settings.invite"]) { vm.invite() })
        val invite = text()
        sync.addView(invite)
        val devices = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        sync.addView(button(s["settings.devices"]) { vm.loadDevices() })
        sync.addView(devices)

        vm.state.render { st ->
            error.text = st.error ?: ""
            st.business?.let { b ->
                if (name.text.isEmpty()) name.setText(b.name)
                if (phone.text.isEmpty()) phone.setText(b.phone ?: "")
                hourFields.forEachIndexed { i, f -> if (f.text.isEmpty()) f.setText(b.workingHours[i]) }
            }
            templateList.removeAllViews()
            st.templates.forEach { t ->
                templateList.addView(row(text("${t.name}: ${t.body}"), button(s["settings.remove"]) { vm.removeTemplate(t.id) }))
            }
            rules.removeAllViews()
            st.rules.forEach { r ->
                rules.addView(Switch(this).apply {
                    text = "${r.name} (${r.channels.joinToString()})"
                    isChecked = r.enabled
                    setOnCheckedChangeListener { _, on -> scope.launch { vm.setRuleEnabled(r.id, on) } }
                })
            }
            status.text = st.sync?.let { i ->
                if (i.paired) s.format("settings.paired", i.server, s.plural("waiting", i.unsynced.toLong())) else s["settings.not_paired"]
            } ?: ""
            invite.text = st.invite?.let { s.format("settings.invite_code", it.code, it.expiresAt.take(16)) + "\n${st.inviteQr ?: ""}" } ?: ""
            devices.removeAllViews()
            st.devices.forEach { d ->
                devices.addView(row(
                    text("${d.name}${if (d.owner) " " + s["settings.owner"] else ""}${if (d.revoked) s["settings.removed"] else ""}\n" +
                        s.format("settings.last_seen", d.lastSeen?.take(16) ?: s["settings.never"])),
                    button(s["settings.remove"]) { vm.revoke(d.id) }.apply { isEnabled = !d.revoked && !d.owner },
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

package app.kartka.android

import android.content.Intent
import android.os.Bundle
import app.kartka.app.SetupViewModel
import java.util.Locale
import java.util.TimeZone

/**
 * The first launch: name the studio (the rest comes from the phone's settings) or join a
 * business another phone already keeps, from Settings.
 */
class SetupActivity : ScreenActivity() {
    private lateinit var vm: SetupViewModel

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        vm = SetupViewModel(kartka.book, kartka.io)
        page.addView(text(s["app.name"], 28f))
        page.addView(text(s["setup.tagline"]))
        val name = field(s["setup.studio_name"])
        page.addView(name)
        val error = text()
        page.addView(error)
        page.addView(button(s["setup.start"]) {
            vm.create(name.text.toString(), resources.configuration.locales[0], TimeZone.getDefault().id)
            if (vm.state.value.done) {
                startActivity(Intent(this, ClientListActivity::class.java))
                finish()
            }
        })
        page.addView(button(s["setup.join"]) {
            startActivity(Intent(this, SettingsActivity::class.java))
        })
        vm.state.render { s -> error.text = s.error ?: "" }
    }
}

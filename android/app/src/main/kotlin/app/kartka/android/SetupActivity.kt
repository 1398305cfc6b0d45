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
        page.addView(text("Kartka", 28f))
        page.addView(text("Your client book. It lives on this phone and works without the internet."))
        val name = field("Studio name")
        page.addView(name)
        val error = text()
        page.addView(error)
        page.addView(button("Start") {
            vm.create(name.text.toString(), Locale.getDefault(), TimeZone.getDefault().id)
            if (vm.state.value.done) {
                startActivity(Intent(this, ClientListActivity::class.java))
                finish()
            }
        })
        page.addView(button("Join a business on another phone") {
            startActivity(Intent(this, SettingsActivity::class.java))
        })
        vm.state.render { s -> error.text = s.error ?: "" }
    }
}

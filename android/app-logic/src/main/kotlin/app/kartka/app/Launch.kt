package app.kartka.app

/**
 * How a link from the core is handed to the phone: which Android intent action opens it (the
 * iOS app passes every kind to `UIApplication.open`). Decided here, tested on the JVM; the
 * Activity only builds `Intent(action, Uri.parse(uri))`.
 */
data class LaunchSpec(val kind: Kind, val uri: String) {
    enum class Kind {
        /** `Intent.ACTION_DIAL`: the dialer with the number filled in; no CALL_PHONE permission. */
        DIAL,
        /** `Intent.ACTION_SENDTO`: an SMS or email composer with the text filled in. */
        SEND_TO,
        /** `Intent.ACTION_VIEW`: WhatsApp, Telegram, Viber (their apps claim these links). */
        VIEW,
    }

    /** The Android intent action string, for the Activity (constants of `android.content.Intent`). */
    val androidAction: String
        get() = when (kind) {
            Kind.DIAL -> "android.intent.action.DIAL"
            Kind.SEND_TO -> "android.intent.action.SENDTO"
            Kind.VIEW -> "android.intent.action.VIEW"
        }

    companion object {
        fun of(uri: String): LaunchSpec {
            val scheme = uri.substringBefore(':').lowercase()
            val kind = when (scheme) {
                "tel" -> Kind.DIAL
                "sms", "smsto", "mailto" -> Kind.SEND_TO
                "https", "viber", "tg", "whatsapp" -> Kind.VIEW
                else -> throw IllegalArgumentException("not a link the apps open: $scheme")
            }
            return LaunchSpec(kind, uri)
        }
    }
}

/**
 * A pairing code as the owner's phone shows it in a QR code: `kartka://pair?server=<url>&code=<code>`.
 * Typed by hand, only the code is entered and the server comes from the settings field.
 */
data class PairingCode(val server: String?, val code: String) {
    fun toUri(): String {
        val s = server ?: error("a QR code needs the server address")
        return "kartka://pair?server=${java.net.URLEncoder.encode(s, "UTF-8")}&code=${java.net.URLEncoder.encode(code, "UTF-8")}"
    }

    companion object {
        fun parse(text: String): PairingCode? {
            val t = text.trim()
            if (!t.startsWith("kartka://pair?")) {
                // A hand-typed code: letters and digits, dashes and spaces allowed between groups.
                val code = t.filter { it.isLetterOrDigit() || it == '-' }
                return if (code.length >= 6) PairingCode(null, code) else null
            }
            val params = t.substringAfter('?').split('&').mapNotNull {
                val (k, v) = it.split('=', limit = 2).takeIf { p -> p.size == 2 } ?: return@mapNotNull null
                k to java.net.URLDecoder.decode(v, "UTF-8")
            }.toMap()
            val server = params["server"]?.takeIf { it.startsWith("http://") || it.startsWith("https://") }
            val code = params["code"]?.takeIf { it.isNotBlank() }
            return if (server != null && code != null) PairingCode(server, code) else null
        }
    }
}

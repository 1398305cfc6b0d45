package app.kartka.app

/** The languages the masters read, in the order the apps offer them; the first match wins. */
val LANGUAGES = listOf("uk", "ru", "pl", "en")

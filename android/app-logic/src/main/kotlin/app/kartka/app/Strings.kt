package app.kartka.app

/** The languages the masters read, in the order the apps offer them; the first match wins. */
val LANGUAGES = listOf("uk", "ru", "pl", "en")

/** The four tables, one per language ([EN] is the reference every other must match). */
internal val TABLES: Map<String, Map<String, String>> = mapOf("uk" to UK, "ru" to RU, "pl" to PL, "en" to EN)

/**
 * The apps' words in one language, chosen from the device's: Ukrainian, Russian, Polish, or
 * English for any other. Arguments follow `String.format` (`%s`, `%1$s`, `%d`); counts go
 * through [plural], which picks the form each language's rule asks for.
 */
class Strings private constructor(val language: String) {
    private val table = TABLES.getValue(language)

    /** A missing key is a bug the key test catches; at run time the English word stands in. */
    operator fun get(key: String): String = table[key] ?: EN[key] ?: key

    fun format(key: String, vararg args: Any?): String = String.format(java.util.Locale.ROOT, get(key), *args)

    /** "1 візит / 2 візити / 5 візитів": [key] names the `.one`, `.few` and `.many` forms. */
    fun plural(key: String, n: Long): String = format("$key.${pluralForm(language, n)}", n)

    /** A count as this language writes it: 12,000 in English, 12 000 in Ukrainian. */
    fun number(n: Long): String = java.text.NumberFormat.getIntegerInstance(java.util.Locale.forLanguageTag(language)).format(n)

    /** [plural] with the count written by [number] ("12,000 changes waiting"): keys take `%s`. */
    fun count(key: String, n: Long): String = format("$key.${pluralForm(language, n)}", number(n))

    /** A core channel name (`sms`, `whatsapp`, …) as the buttons show it. */
    fun channel(channel: String): String = table["channel.$channel"] ?: channel

    /** A thing the core names in a refusal (`client`, `phone number`) in this language. */
    fun what(what: String): String = table["what.$what"] ?: what

    /** A visit, message or conversation status as the master reads it. */
    fun status(status: String): String = table["status.$status"] ?: status.replace('_', ' ')

    /**
     * The core's reason a card button is disabled ("no consent for whatsapp", "no email
     * address") in this language; a reason the table does not know is shown as the core said it.
     */
    fun reason(reason: String): String {
        val channel = reason.removePrefix("no consent for ").takeIf { it != reason }
        return when {
            channel != null -> format("reason.no_consent", channel(channel))
            reason == "no email address" -> get("reason.no_email")
            reason.startsWith("no phone") -> get("reason.no_phone")
            else -> reason
        }
    }

    companion object {
        private val cache = LANGUAGES.associateWith { Strings(it) }

        /** The phone's language: what the view-models speak in (the Activities read the same). */
        fun device(): Strings = of(java.util.Locale.getDefault().toLanguageTag())

        /** For a device language tag (`uk`, `uk-UA`, `pl_PL`); anything else reads English. */
        fun of(language: String?): Strings =
            cache[language?.substringBefore('-')?.substringBefore('_')?.lowercase()] ?: cache.getValue("en")

        /**
         * CLDR's cardinal rules for the four languages, integers only: Ukrainian and Russian
         * share one (21 візит, 22 візити, 25 візитів, 11 візитів), Polish differs at 1 alone
         * (21 wizyt), English has one and other (here `many`).
         */
        fun pluralForm(language: String, n: Long): String {
            val mod10 = n % 10
            val mod100 = n % 100
            val few = mod10 in 2..4 && mod100 !in 12..14
            return when (language) {
                "uk", "ru" -> when {
                    mod10 == 1L && mod100 != 11L -> "one"
                    few -> "few"
                    else -> "many"
                }
                "pl" -> when {
                    n == 1L -> "one"
                    few -> "few"
                    else -> "many"
                }
                else -> if (n == 1L) "one" else "many"
            }
        }
    }
}

package app.kartka.app

import java.io.File
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertTrue

class StringsTest {
    @Test
    fun everyLanguageHasEveryKeyWithTheSameArguments() {
        val args = Regex("%(\\d+\\$)?[sd%]")
        for ((lang, table) in TABLES) {
            assertEquals(EN.keys - table.keys, emptySet(), "keys missing in $lang")
            assertEquals(table.keys - EN.keys, emptySet(), "keys in $lang that English lacks")
            for ((k, v) in table) {
                assertTrue(v.isNotBlank(), "$lang $k is blank")
                assertEquals(args.findAll(EN.getValue(k)).map { it.value }.sorted().toList(),
                    args.findAll(v).map { it.value }.sorted().toList(), "$lang $k has other arguments than English")
            }
        }
    }

    @Test
    fun pluralsFollowEachLanguagesRule() {
        val uk = Strings.of("uk-UA")
        assertEquals(listOf("1 візит", "2 візити", "5 візитів", "11 візитів", "21 візит", "22 візити", "112 візитів"),
            listOf(1L, 2, 5, 11, 21, 22, 112).map { uk.plural("visits", it) })
        val ru = Strings.of("ru")
        assertEquals(listOf("1 визит", "3 визита", "14 визитов", "101 визит"), listOf(1L, 3, 14, 101).map { ru.plural("visits", it) })
        val pl = Strings.of("pl_PL")
        assertEquals(listOf("1 wizyta", "2 wizyty", "5 wizyt", "12 wizyt", "21 wizyt", "22 wizyty"),
            listOf(1L, 2, 5, 12, 21, 22).map { pl.plural("visits", it) })
        val en = Strings.of("de")
        assertEquals("en", en.language, "a language the masters do not read falls back to English")
        assertEquals(listOf("0 visits", "1 visit", "2 visits"), listOf(0L, 1, 2).map { en.plural("visits", it) })
    }

    @Test
    fun theCoresReasonsAreTranslated() {
        assertEquals("немає згоди на WhatsApp", Strings.of("uk").reason("no consent for whatsapp"))
        assertEquals("brak adresu e-mail", Strings.of("pl").reason("no email address"))
        assertEquals("something new", Strings.of("ru").reason("something new"))
    }

    /** The core's refusals, as a master reads them in each language. */
    @Test
    fun theCoresRefusalsSpeakTheMastersLanguage() {
        val noConsent = app.kartka.core.ApiException.NoConsent("whatsapp")
        assertEquals("Клієнт не погодився на повідомлення в WhatsApp", userMessage(noConsent, Strings.of("uk")))
        assertEquals("Klient nie zgodził się na wiadomości przez WhatsApp", userMessage(noConsent, Strings.of("pl")))
        assertEquals("Этого уже нет в книге: визита", userMessage(app.kartka.core.ApiException.NotFound("visit"), Strings.of("ru")))
        assertEquals("It is no longer in the book: client", userMessage(app.kartka.core.ApiException.NotFound("client"), Strings.of("en")))
        assertEquals("У клієнта немає: адреси email", userMessage(app.kartka.core.ApiException.NoAddress("email address"), Strings.of("uk")))
        assertEquals(
            "Brak połączenia z serwerem; zmiany są zapisane i zsynchronizują się później",
            userMessage(app.kartka.core.ApiException.Network("connection refused"), Strings.of("pl")),
        )
        assertEquals("5 карток змінили на двох телефонах одночасно; обидві зміни збережено", Strings.of("uk").plural("sync.merged", 5))
    }

    /**
     * The iOS app reads the same keys from Localizable.strings, generated from these tables:
     * this fails when the committed files differ (`-Dkartka.write.ios=true` rewrites them).
     */
    @Test
    fun theIosStringsAreTheseTables() {
        val root = File(System.getProperty("kartka.ios.resources") ?: error("kartka.ios.resources is not set"))
        for ((lang, table) in TABLES) {
            val file = File(root, "$lang.lproj/Localizable.strings")
            val text = iosStrings(table)
            if (System.getProperty("kartka.write.ios") == "true") {
                file.parentFile.mkdirs()
                file.writeText(text)
            }
            assertEquals(text, file.readText(), "$file is stale: run mvn -f android/pom.xml test -Dkartka.write.ios=true")
        }
    }

    private fun iosStrings(table: Map<String, String>): String = buildString {
        append("/* Generated from android/app-logic's Strings tables (StringsTest); do not edit. */\n")
        for ((k, v) in table.toSortedMap()) {
            // Foundation's format: %@ for a string, %ld for a Swift Int.
            val swift = v.replace(Regex("%(\\d+\\$)?s"), "%$1@").replace(Regex("%(\\d+\\$)?d"), "%$1ld")
            append("\"").append(k).append("\" = \"").append(swift.replace("\\", "\\\\").replace("\"", "\\\"")).append("\";\n")
        }
    }
}

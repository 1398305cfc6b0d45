package app.kartka.app

import app.kartka.core.ClientBook
import app.kartka.core.NewBusinessRec
import kotlinx.coroutines.CoroutineDispatcher

data class SetupState(val done: Boolean = false, val error: String? = null)

/**
 * The first launch: the book exists but has no business. The master types the studio's name;
 * country, time zone, currency and language come from the phone (a Kyiv phone in Ukrainian
 * gets UA, Europe/Kyiv, UAH, uk) and can be changed in Settings later.
 */
class SetupViewModel(
    private val book: ClientBook,
    private val io: CoroutineDispatcher,
) : Screen<SetupState>(SetupState(), io) {

    suspend fun create(name: String, device: java.util.Locale, zone: String) {
        call({ s, m -> s.copy(error = m) }) { book.initBusiness(businessFor(name, device, zone)) } ?: return
        update { SetupState(done = true) }
    }

    companion object {
        /** The phone's settings as a new business; a language without a country is placed by it. */
        fun businessFor(name: String, device: java.util.Locale, zone: String): NewBusinessRec {
            val language = device.language.takeIf { it in LANGUAGES } ?: "en"
            val region = device.country.takeIf { it.length == 2 } ?: when (language) {
                "pl" -> "PL"
                else -> "UA"
            }
            val currency = runCatching { java.util.Currency.getInstance(java.util.Locale("", region)).currencyCode }
                .getOrNull() ?: "UAH"
            return NewBusinessRec(name.trim(), region, zone, currency, language)
        }
    }
}

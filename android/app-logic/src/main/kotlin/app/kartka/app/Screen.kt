package app.kartka.app

import app.kartka.core.ApiException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.withContext

/**
 * What every screen's view-model shares: one immutable state the UI renders, and book calls
 * made on [io] (the core blocks while it reads or writes; the UI thread never waits on it).
 * Plain Kotlin, no Android classes: the same view-models run in the app and in JVM tests.
 */
abstract class Screen<S>(initial: S, private val io: CoroutineDispatcher) {
    private val mutable = MutableStateFlow(initial)
    val state: StateFlow<S> = mutable.asStateFlow()

    protected fun update(f: (S) -> S) {
        mutable.value = f(mutable.value)
    }

    /** Runs a book call off the UI thread; a typed core error becomes the screen's message. */
    protected suspend fun <T> call(onError: (S, String) -> S, block: () -> T): T? =
        try {
            withContext(io) { block() }
        } catch (e: ApiException) {
            update { onError(it, userMessage(e)) }
            null
        }
}

/** The sentence a master reads when the core refuses something, in the phone's language. */
fun userMessage(e: ApiException, s: Strings = Strings.device()): String = when (e) {
    is ApiException.Validation -> s.format("error.check", fieldLabel(e.field), e.reason)
    is ApiException.NotFound -> s.format("error.not_found", s.what(e.what))
    is ApiException.NoConsent -> s.format("error.no_consent", s.channel(e.channel))
    is ApiException.NoAddress -> s.format("error.no_address", s.what(e.what))
    is ApiException.WhatsAppWindowClosed -> s["error.whatsapp_window"]
    is ApiException.Network -> s["error.network"]
    is ApiException.NotPaired -> s["error.not_paired"]
    is ApiException.Revoked -> s["error.revoked"]
    is ApiException.Server -> e.detail
    else -> e.message ?: e.toString()
}

/** `discount_percent` → "discount percent", `VisitStatus` → "visit status". */
internal fun fieldLabel(field: String): String =
    field.replace(Regex("([a-z])([A-Z])"), "$1 $2").replace('_', ' ').lowercase()

/** Channel names as the buttons show them. */
fun channelLabel(channel: String): String = when (channel) {
    "sms" -> "SMS"
    "whatsapp" -> "WhatsApp"
    "telegram" -> "Telegram"
    "viber" -> "Viber"
    "email" -> "email"
    "marketing" -> "marketing"
    "call" -> "Call"
    else -> channel
}

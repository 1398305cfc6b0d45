package app.kartka.app

import app.kartka.core.BusinessRec
import app.kartka.core.ClientBook
import app.kartka.core.DeviceRec
import app.kartka.core.InviteRec
import app.kartka.core.RuleRec
import app.kartka.core.SyncInfoRec
import app.kartka.core.TemplateRec
import kotlinx.coroutines.CoroutineDispatcher

val WEEKDAY_LABELS = listOf("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

data class SettingsState(
    val business: BusinessRec? = null,
    val templates: List<TemplateRec> = emptyList(),
    val rules: List<RuleRec> = emptyList(),
    val sync: SyncInfoRec? = null,
    val devices: List<DeviceRec> = emptyList(),
    val invite: InviteRec? = null,
    /** The QR code's text for [invite]: another phone scans it to join. */
    val inviteQr: String? = null,
    val error: String? = null,
)

/**
 * Settings: business details, working hours, templates, notification rules, and pairing with
 * a sync server (create the business there, or join with a code or a scanned QR), the list of
 * devices and removing a lost one. Network calls block: they run on the io dispatcher too.
 */
class SettingsViewModel(
    private val book: ClientBook,
    io: CoroutineDispatcher,
) : Screen<SettingsState>(SettingsState(), io) {

    suspend fun load() {
        val s = call({ s, m -> s.copy(error = m) }) {
            SettingsState(
                business = book.business(),
                templates = book.templates(),
                rules = book.rules(),
                sync = book.syncInfo(),
                devices = state.value.devices,
            )
        } ?: return
        update { s }
    }

    private suspend fun then(block: () -> Unit) {
        call({ s, m -> s.copy(error = m) }) { block() } ?: return
        load()
    }

    suspend fun setDetails(name: String, phone: String?) = then { book.setBusinessDetails(name, phone) }

    /** [hours]: `09:00-13:00,14:00-19:00` or `closed`; Monday is 0. */
    suspend fun setHours(weekday: Int, hours: String) = then { book.setWorkingHours(weekday.toUInt(), hours) }

    suspend fun saveTemplate(t: TemplateRec) = then { book.putTemplate(t) }

    suspend fun removeTemplate(id: String) = then { book.removeTemplate(id) }

    suspend fun setRuleEnabled(ruleId: String, enabled: Boolean) = then {
        val rule = book.rules().first { it.id == ruleId }
        book.putRule(rule.copy(enabled = enabled))
    }

    /** The first phone of a business: creates it on the server and uploads the book. */
    suspend fun createOnServer(server: String, deviceName: String) = then {
        book.pairCreateBusiness(server.trim(), deviceName)
        book.syncNow()
    }

    /**
     * Joins a business from a scanned QR code or a typed code (then [server] is the address
     * typed in the field). Returns false when the text is not a pairing code.
     */
    suspend fun join(scannedOrTyped: String, server: String?, deviceName: String): Boolean {
        val p = PairingCode.parse(scannedOrTyped)
        val address = p?.server ?: server?.trim()?.takeIf { it.isNotEmpty() }
        if (p == null || address == null) {
            update { it.copy(error = Strings.device()["error.pairing_code"]) }
            return false
        }
        then {
            book.pairJoin(address, p.code, deviceName)
            book.syncNow()
        }
        return state.value.error == null
    }

    /** An invite for another phone, with its QR text. */
    suspend fun invite() {
        val inv = call({ s, m -> s.copy(error = m) }) { book.invite() } ?: return
        val server = state.value.sync?.server
        update { it.copy(invite = inv, inviteQr = server?.let { s -> PairingCode(s, inv.code).toUri() }) }
    }

    suspend fun loadDevices() {
        val d = call({ s, m -> s.copy(error = m) }) { book.devices() } ?: return
        update { it.copy(devices = d) }
    }

    suspend fun revoke(deviceId: String) {
        call({ s, m -> s.copy(error = m) }) { book.revokeDevice(deviceId) } ?: return
        loadDevices()
    }
}

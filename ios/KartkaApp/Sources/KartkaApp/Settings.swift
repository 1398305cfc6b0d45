import Foundation
import KartkaCore

/// Business details, hours, templates, rules, pairing and devices; mirrors Settings.kt.
@MainActor
final class SettingsModel: ObservableObject {
    @Published private(set) var business: BusinessRec?
    @Published private(set) var templates: [TemplateRec] = []
    @Published private(set) var rules: [RuleRec] = []
    @Published private(set) var sync: SyncInfoRec?
    @Published private(set) var devices: [DeviceRec] = []
    @Published private(set) var invite: InviteRec?
    @Published private(set) var inviteQr: String?
    @Published var error: String?
    private let book: ClientBook

    init(book: ClientBook) { self.book = book }

    func load() async {
        let book = self.book
        switch await offMain({ (try book.business(), try book.templates(), try book.rules(), try book.syncInfo()) }) {
        case let .success((b, t, r, s)): business = b; templates = t; rules = r; sync = s; error = nil
        case let .failure(e): error = userMessage(e)
        }
    }

    private func then(_ block: @escaping @Sendable () throws -> Void) async {
        if case let .failure(e) = await offMain(block) { error = userMessage(e); return }
        await load()
    }

    func setDetails(name: String, phone: String) async { let b = book; await then { _ = try b.setBusinessDetails(name: name, phone: phone) } }
    func setHours(_ weekday: Int, _ hours: String) async { let b = book; await then { try b.setWorkingHours(weekday: UInt32(weekday), hours: hours) } }
    func save(_ t: TemplateRec) async { let b = book; await then { _ = try b.putTemplate(t: t) } }
    func remove(template id: String) async { let b = book; await then { try b.removeTemplate(templateId: id) } }

    func setRule(_ rule: RuleRec, enabled: Bool) async {
        var r = rule
        r.enabled = enabled
        let b = book
        await then { _ = try b.putRule(r: r) }
    }

    func createOnServer(_ server: String, device: String) async {
        let b = book
        await then { _ = try b.pairCreateBusiness(server: server, deviceName: device); _ = try b.syncNow() }
    }

    /// From a scanned QR code or a typed code (then `server` is the typed address).
    func join(_ text: String, server: String?, device: String) async -> Bool {
        guard let p = PairingCode.parse(text), let address = p.server ?? server.flatMap({ $0.isEmpty ? nil : $0 }) else {
            error = "Scan the QR code from the owner's phone, or type its code and the server address"
            return false
        }
        let b = book
        await then { _ = try b.pairJoin(server: address, code: p.code, deviceName: device); _ = try b.syncNow() }
        return error == nil
    }

    func makeInvite() async {
        let b = book
        switch await offMain({ try b.invite() }) {
        case let .success(inv): invite = inv; inviteQr = PairingCode(server: sync?.server, code: inv.code).uri
        case let .failure(e): error = userMessage(e)
        }
    }

    func loadDevices() async {
        let b = book
        switch await offMain({ try b.devices() }) {
        case let .success(d): devices = d
        case let .failure(e): error = userMessage(e)
        }
    }

    func revoke(_ id: String) async {
        let b = book
        if case let .failure(e) = await offMain({ try b.revokeDevice(deviceId: id) }) { error = userMessage(e); return }
        await loadDevices()
    }
}

/// The app's one subscriber to the book's sync status (the core keeps one) and the foreground
/// sync loop; mirrors SyncController.kt. Background refresh (BGAppRefreshTask) calls `syncNow`
/// in KartkaMain; pull to refresh (`.refreshable`) calls `syncNow()` here.
final class SyncModel: ObservableObject, SyncStatusListener, SyncStateListener, @unchecked Sendable {
    /// The book's sync status as the core last told it (paired, link, last sync, edits waiting,
    /// a fresh device's progress, the last problem).
    @Published private(set) var state: SyncStateRec?
    /// A sync the master asked for is under way.
    @Published private(set) var refreshing = false
    @Published private(set) var conflictsResolved = 0
    @Published var notice: String?
    /// Moves "2 min ago" on while a screen is open.
    @Published private(set) var now = Date()
    private let book: ClientBook
    private var ticker: Timer?

    init(book: ClientBook) {
        self.book = book
        // Told the current status at once, then every change, on the thread that made it.
        try? book.observeSyncState(listener: self)
        ticker = Timer.scheduledTimer(withTimeInterval: 30, repeats: true) { [weak self] _ in self?.now = Date() }
    }

    /// The line's words for the list and the card.
    var line: SyncLine? {
        guard let s = state else { return nil }
        let b = book
        let language = Bundle.module.preferredLocalizations.first ?? "en"
        return SyncLine.of(s, now: now, refreshing: refreshing) { at in try? b.formatMoment(at: at, language: language) }
    }

    func start() { book.startSync(waitSeconds: 25, listener: self) }
    func stop() { book.stopSync() }

    /// Pull to refresh: one push and pull now, off the main thread. A failure is kept in the
    /// book's status and worded by the line ("Offline — 3 changes waiting").
    @MainActor
    func syncNow() async {
        guard state?.paired == true else { return }
        refreshing = true
        let b = book
        if case let .success(report) = await offMain({ try b.syncNow() }) { synced(report) }
        refreshing = false
        now = Date()
    }

    func syncStateChanged(state: SyncStateRec) {
        DispatchQueue.main.async { [self] in self.state = state; now = Date() }
    }

    func syncStatus(status: SyncStatusRec) {
        DispatchQueue.main.async { [self] in
            // Pages and failures reach the line through the book's status.
            if case let .synced(report) = status { synced(report) }
        }
    }

    private func synced(_ report: SyncReportRec) {
        conflictsResolved += Int(report.concurrent)
        if report.concurrent > 0 { notice = LP("sync.merged", Int(report.concurrent)) }
        // A staff link opened in another chat: say whose alerts moved, by name (issue 25).
        if !report.staffAlertsMoved.isEmpty {
            let names = Dictionary(((try? book.staff()) ?? []).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
            notice = L("sync.alerts_moved", report.staffAlertsMoved.map { names[$0] ?? $0 }.joined(separator: ", "))
        }
    }
}

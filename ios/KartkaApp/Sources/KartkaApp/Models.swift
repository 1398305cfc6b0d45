import Foundation
import KartkaCore

/// The client list: instant search, class and tag filters, VIP mark. Mirrors ClientList.kt:
/// only the newest search's answer is shown.
@MainActor
final class ClientListModel: ObservableObject {
    @Published var query = ""
    @Published var clientClass: String?
    @Published var tag: String?
    @Published private(set) var rows: [ClientRec] = []
    @Published private(set) var more = false
    @Published var error: String?
    private let book: ClientBook
    private let pageSize: UInt32 = 50
    private var generation = 0

    init(book: ClientBook) { self.book = book }

    func reload() async {
        generation += 1
        let gen = generation
        let (q, c, t, n) = (query, clientClass, tag, pageSize)
        let book = self.book
        switch await offMain({ try book.findClients(query: q, clientClass: c, tag: t, offset: 0, limit: n) }) {
        case let .success(page) where gen == generation: rows = page; more = page.count == Int(n)
        case let .failure(e): error = userMessage(e)
        default: break
        }
    }

    func loadMore() async {
        guard more else { return }
        let (q, c, t, n, offset) = (query, clientClass, tag, pageSize, UInt32(rows.count))
        let book = self.book
        if case let .success(page) = await offMain({ try book.findClients(query: q, clientClass: c, tag: t, offset: offset, limit: n) }) {
            rows += page; more = page.count == Int(n)
        }
    }

    /// A new client: name and a number as typed; every consent starts off. Mirrors ClientList.kt.
    func add(name: String, phone: String) async -> String? {
        let book = self.book
        let rec = NewClientRec(name: name.trimmingCharacters(in: .whitespaces),
                               phones: phone.isEmpty ? [] : [phone], email: nil, birthday: nil,
                               comment: nil, clientClass: nil, tags: [])
        switch await offMain({ try book.addClient(c: rec) }) {
        case let .success(c): await reload(); return c.id
        case let .failure(e): error = userMessage(e); return nil
        }
    }

    func owes(_ c: ClientRec) -> String? { c.balance > 0 ? try? book.formatMoney(minor: c.balance) : nil }
}

/// The client card. Buttons and reasons come from the core; mirrors ClientCard.kt.
@MainActor
final class ClientCardModel: ObservableObject {
    @Published private(set) var client: ClientRec?
    @Published private(set) var money: (sold: String, paid: String, balance: String)?
    @Published private(set) var actions: [CardActionRec] = []
    @Published private(set) var consent: ConsentRec?
    @Published private(set) var visits: [VisitRec] = []
    @Published private(set) var messages: [MessageRec] = []
    /// Fields two phones changed apart, still to settle (CardConflicts.swift).
    @Published private(set) var conflicts: [CardConflict] = []
    @Published var error: String?
    @Published var text = ""
    @Published var channel = "sms"
    let clientId: String
    private let book: ClientBook

    init(book: ClientBook, clientId: String) { self.book = book; self.clientId = clientId }

    func load() async {
        let (book, id) = (self.book, clientId)
        let r = await offMain { () -> (ClientRec, [String], [CardActionRec], ConsentRec, [VisitRec], [MessageRec]) in
            let c = try book.getClient(clientId: id)
            let m = [try book.formatMoney(minor: c.sold), try book.formatMoney(minor: c.paid), try book.formatMoney(minor: c.balance)]
            return (c, m, try book.cardActions(clientId: id), try book.consent(clientId: id),
                    try book.clientVisits(clientId: id), try book.history(clientId: id).sorted { $0.at > $1.at })
        }
        switch r {
        case let .success((c, m, a, cons, v, msgs)):
            client = c; money = (m[0], m[1], m[2]); actions = a; consent = cons; visits = v; messages = msgs; error = nil
        case let .failure(e): error = userMessage(e)
        }
        if case let .success(cs) = await offMain({ try cardConflicts(book: book, clientId: id) }) { conflicts = cs }
    }

    /// Keeps one value of a conflict (`keep` nil: every number); the card reloads.
    func settleConflict(_ field: String, keep: UInt32?) async {
        let (book, id) = (self.book, clientId)
        if case let .failure(e) = await offMain({ try settleCardConflict(book: book, clientId: id, field: field, keep: keep) }) { error = userMessage(e) }
        await load()
    }

    /// The edit form as typed; an emptied field is cleared. Mirrors CardForm in ClientCard.kt.
    struct CardForm {
        var name = "", phones = "", email = "", birthday = "", comment = ""
        var clientClass = "regular", tags = "", loyaltyCard = "", discountPercent = "0"
    }

    func form() -> CardForm? {
        guard let c = client else { return nil }
        return CardForm(name: c.name, phones: c.phones.map(\.raw).joined(separator: ", "), email: c.email ?? "",
                    birthday: c.birthday ?? "", comment: c.comment ?? "", clientClass: c.clientClass,
                    tags: c.tags.joined(separator: ", "), loyaltyCard: c.loyaltyCard ?? "",
                    discountPercent: String(c.discountPercent))
    }

    func save(_ f: CardForm) async {
        guard let c = client else { return }
        let typed = f.discountPercent.trimmingCharacters(in: .whitespaces)
        guard let discount = UInt8(typed.isEmpty ? "0" : typed), discount <= 100 else {
            error = "Check discount: a whole percent from 0 to 100"
            return
        }
        let split = { (s: String) in s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        let tags = split(f.tags)
        let cls = f.clientClass.trimmingCharacters(in: .whitespaces)
        await edit(ClientPatchRec(name: f.name, phones: split(f.phones), email: f.email, birthday: f.birthday,
                                  comment: f.comment, clientClass: cls.isEmpty ? "regular" : cls,
                                  addTags: tags.filter { !c.tags.contains($0) },
                                  removeTags: c.tags.filter { !tags.contains($0) },
                                  loyaltyCard: f.loyaltyCard, discountPercent: discount))
    }

    func edit(_ patch: ClientPatchRec) async {
        let (book, id) = (self.book, clientId)
        if case let .failure(e) = await offMain({ try book.updateClient(clientId: id, patch: patch) }) { error = userMessage(e); return }
        await load()
    }

    /// A consent change always carries its source; the toggle asks for it first.
    func setConsent(_ channel: String, granted: Bool, source: String, note: String) async {
        precondition(consentSources.contains(source), "unknown consent source")
        let (book, id) = (self.book, clientId)
        if case let .failure(e) = await offMain({ try book.setConsent(clientId: id, channel: channel, granted: granted, source: source, note: note) }) {
            error = userMessage(e); return
        }
        await load()
    }

    /// "1 SMS · 42/70 · Unicode" while the master types an SMS.
    var smsCounter: String? {
        guard channel == "sms", !text.isEmpty else { return nil }
        let i = smsInfo(text: text)
        let inLast = Int(i.units) - (Int(i.segments) - 1) * Int(i.perSegment)
        return "\(i.segments) SMS · \(inLast)/\(i.perSegment)" + (i.encoding == "ucs2" ? " · Unicode" : "")
    }

    func useTemplate(_ templateId: String) async {
        let (book, id) = (self.book, clientId)
        switch await offMain({ try book.renderTemplate(templateId: templateId, clientId: id, visitId: nil) }) {
        case let .success(t): text = t
        case let .failure(e): error = userMessage(e)
        }
    }

    func link(for action: String) async -> URL? {
        let (book, id, text) = (self.book, clientId, self.text)
        let r = await offMain { () -> String in
            action == "call" ? try book.dialLink(clientId: id) : try book.quickMessage(clientId: id, channel: action, text: text, platform: "ios").link
        }
        switch r {
        case let .success(s): return URL(string: s)
        case let .failure(e): error = userMessage(e); return nil
        }
    }

    /// A confirmation request for one of the client's visits, into the composer: the server
    /// signs the link (needs the network). Mirrors confirmationRequest in ClientCard.kt.
    func askToConfirm(_ visitId: String) async {
        let book = self.book
        switch await offMain({ try book.confirmationRequest(visitId: visitId, templateId: nil) }) {
        case let .success(t): text = t
        case let .failure(e): error = userMessage(e)
        }
    }

    /// WhatsApp only: until when free text may go through the server, or that only approved
    /// templates can go now. Mirrors whatsAppNote in ClientCard.kt.
    @Published private(set) var whatsAppNote: String?

    func loadWhatsAppNote() async {
        guard channel == "whatsapp" else { whatsAppNote = nil; return }
        let (book, id) = (self.book, clientId)
        switch await offMain({ try book.whatsappWindow(clientId: id) }) {
        case let .success(until?):
            let t = instant(until).map { $0.formatted(date: .omitted, time: .shortened) } ?? until
            whatsAppNote = L("whatsapp.free_until", t)
        case .success(nil): whatsAppNote = L("whatsapp.templates_only")
        case let .failure(e): error = userMessage(e)
        }
    }

    /// Sends the text (or a template) through the server's gateway: queued now, sent after the
    /// next sync. Mirrors sendThroughServer in ClientCard.kt.
    func sendThroughServer(templateId: String? = nil) async {
        let (book, id, channel, text) = (self.book, clientId, self.channel, self.text)
        switch await offMain({ try book.reply(clientId: id, channel: channel, text: templateId == nil ? text : nil, templateId: templateId) }) {
        case .success: self.text = ""; await load()
        case let .failure(e): error = userMessage(e)
        }
    }

    /// After the phone's app opened: recorded in the history (consent re-checked by the core).
    func recordSent(_ channel: String) async {
        let (book, id, text) = (self.book, clientId, self.text)
        if case let .failure(e) = await offMain({ try book.recordMessage(clientId: id, channel: channel, text: text) }) { error = userMessage(e) }
        await load()
    }
}

/// Day and week agenda in the business's zone; mirrors Agenda.kt.
@MainActor
final class AgendaModel: ObservableObject {
    @Published private(set) var days: [(day: Date, visits: [VisitRec])] = []
    @Published var error: String?
    @Published var week = false
    @Published var first = Date()
    private let book: ClientBook
    private(set) var names: [String: String] = [:]
    private var calendar = Calendar(identifier: .iso8601)

    init(book: ClientBook) {
        self.book = book
        if let zone = try? book.business().zone, let tz = TimeZone(identifier: zone) { calendar.timeZone = tz }
    }

    func show() async {
        let start = week ? calendar.dateInterval(of: .weekOfYear, for: first)!.start : calendar.startOfDay(for: first)
        let count = week ? 7 : 1
        let end = calendar.date(byAdding: .day, value: count, to: start)!
        let iso = ISO8601DateFormatter()
        let book = self.book
        switch await offMain({ try book.agenda(from: iso.string(from: start), to: iso.string(from: end)) }) {
        case let .success(visits):
            for v in visits where names[v.clientId] == nil { names[v.clientId] = (try? book.getClient(clientId: v.clientId))?.name }
            days = (0..<count).map { i in
                let d = calendar.date(byAdding: .day, value: i, to: start)!
                return (d, visits.filter { v in iso.date(from: v.start).map { calendar.isDate($0, inSameDayAs: d) } ?? false })
            }
            error = nil
        case let .failure(e): error = userMessage(e)
        }
    }

    func bookVisit(clientId: String, at: Date, minutes: UInt32, service: String, price: String) async {
        let book = self.book
        let start = ISO8601DateFormatter().string(from: at)
        let r = await offMain { () -> VisitRec in
            let minor = try book.parseMoney(input: price)
            return try book.addVisit(v: NewVisitRec(clientId: clientId, start: start, durationMin: minutes,
                                                    services: [ServiceRec(name: service, price: minor, quantity: 1)], total: nil, paid: 0))
        }
        if case let .failure(e) = r { error = userMessage(e); return }
        await show()
    }

    func status(_ visitId: String, _ status: String) async {
        let book = self.book
        if case let .failure(e) = await offMain({ try book.setVisitStatus(visitId: visitId, status: status) }) { error = userMessage(e); return }
        await show()
    }

    func patch(_ visitId: String, _ p: VisitPatchRec) async {
        let book = self.book
        if case let .failure(e) = await offMain({ try book.updateVisit(visitId: visitId, patch: p) }) { error = userMessage(e); return }
        await show()
    }

    func setPaid(_ visitId: String, typed: String) async {
        let book = self.book
        switch await offMain({ try book.parseMoney(input: typed) }) {
        case let .success(minor): await patch(visitId, VisitPatchRec(paid: minor))
        case let .failure(e): error = userMessage(e)
        }
    }

    func money(_ minor: Int64) -> String { (try? book.formatMoney(minor: minor)) ?? "\(minor)" }
}


/// The inbox: conversations by status; take, postpone, close; a lead is taken in or attached.
/// Mirrors Inbox.kt.
@MainActor
final class InboxModel: ObservableObject {
    @Published private(set) var rows: [InboxEntryRec] = []
    @Published private(set) var staff: [String: String] = [:]
    @Published var status: String? = "unanswered"
    @Published var error: String?
    private let book: ClientBook

    init(book: ClientBook) { self.book = book }

    func show(_ status: String?) async { self.status = status; await load() }

    func load() async {
        let (book, status) = (self.book, self.status)
        let r = await offMain { () -> ([InboxEntryRec], [StaffRec]) in
            (try book.inbox(status: status, offset: 0, limit: 200), try book.staff())
        }
        switch r {
        case let .success((rows, staff)):
            self.rows = rows
            self.staff = Dictionary(uniqueKeysWithValues: staff.map { ($0.id, $0.name) })
            error = nil
        case let .failure(e): error = userMessage(e)
        }
    }

    func take(_ clientId: String) async {
        let book = self.book
        let me = (try? book.currentStaff()) ?? nil
        await change(clientId, status: nil, until: nil, assign: me ?? "")
    }

    func close(_ clientId: String) async { await change(clientId, status: "closed", until: nil, assign: nil) }

    func postpone(_ clientId: String, until: Date) async {
        await change(clientId, status: "postponed", until: ISO8601DateFormatter().string(from: until), assign: nil)
    }

    func takeIn(_ leadId: String) async {
        let book = self.book
        if case let .failure(e) = await offMain({ try book.acceptLead(leadId: leadId, name: nil) }) { error = userMessage(e); return }
        await load()
    }

    func attach(_ leadId: String, to clientId: String) async {
        let book = self.book
        if case let .failure(e) = await offMain({ try book.attachLead(leadId: leadId, clientId: clientId) }) { error = userMessage(e); return }
        await load()
    }

    private func change(_ clientId: String, status: String?, until: String?, assign: String?) async {
        let book = self.book
        if case let .failure(e) = await offMain({ try book.changeConversation(clientId: clientId, status: status, until: until, assign: assign) }) {
            error = userMessage(e); return
        }
        await load()
    }
}

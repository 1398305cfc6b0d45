import ContactsUI
import SwiftUI
import KartkaCore

/// The app's root: the same four places as the Android app.
public struct RootView: View {
    let book: ClientBook
    @ObservedObject var sync: SyncModel

    public init(book: ClientBook, sync: SyncModel) { self.book = book; self.sync = sync }

    public var body: some View {
        TabView {
            NavigationStack { ClientListView(model: ClientListModel(book: book), book: book, sync: sync) }
                .tabItem { Label(L("list.title"), systemImage: "person.2") }
            NavigationStack { AgendaView(model: AgendaModel(book: book)) }
                .tabItem { Label(L("list.agenda"), systemImage: "calendar") }
            NavigationStack { InboxView(model: InboxModel(book: book), book: book, sync: sync) }
                .tabItem { Label(L("list.inbox"), systemImage: "tray") }
            NavigationStack { MessageLogView(model: MessageLogModel(book: book)) }
                .tabItem { Label(L("list.messages"), systemImage: "bubble.left.and.bubble.right") }
            NavigationStack { ImportView(model: ImportModel(book: book)) }
                .tabItem { Label(L("list.import"), systemImage: "person.crop.circle.badge.plus") }
            NavigationStack { SettingsView(model: SettingsModel(book: book), sync: sync) }
                .tabItem { Label(L("list.settings"), systemImage: "gear") }
        }
    }
}

struct ClientListView: View {
    @StateObject var model: ClientListModel
    let book: ClientBook
    @ObservedObject var sync: SyncModel
    @State private var adding = false
    @State private var newName = ""
    @State private var newPhone = ""
    /// The numbers a new phone reader corrected, shown once (issue 23), as on Android.
    @State private var corrections: [PhoneCorrectionRec] = []

    var body: some View {
        List {
            SyncLineView(sync: sync)
            Picker("Class", selection: $model.clientClass) {
                Text(L("list.all")).tag(String?.none)
                Text(L("list.vip")).tag(String?.some("vip"))
            }
            .pickerStyle(.segmented)
            if let e = model.error { Text(e).foregroundStyle(.red) }
            ForEach(model.rows, id: \.id) { c in
                NavigationLink(value: c.id) {
                    VStack(alignment: .leading) {
                        Text((c.clientClass == "vip" ? "★ " : "") + c.name)
                        Text([c.phones.first?.raw ?? c.email, model.owes(c).map { L("list.owes", $0) }].compactMap { $0 }.joined(separator: " · "))
                            .font(.caption).foregroundStyle(.secondary)
                    }
                }
                .task { if c.id == model.rows.last?.id { await model.loadMore() } }
            }
        }
        // Pulled down: sync now; the list then shows what arrived.
        .refreshable { await sync.syncNow(); await model.reload() }
        .searchable(text: $model.query, prompt: L("list.search"))
        .onChange(of: model.query) { _ in Task { await model.reload() } }
        .onChange(of: model.clientClass) { _ in Task { await model.reload() } }
        .navigationDestination(for: String.self) { id in ClientCardView(model: ClientCardModel(book: book, clientId: id), book: book, sync: sync) }
        .navigationTitle(L("list.title"))
        .toolbar { Button(L("list.new_client")) { adding = true } }
        .alert(L("list.new_client"), isPresented: $adding) {
            TextField(L("client.name"), text: $newName)
            TextField(L("client.phone"), text: $newPhone).keyboardType(.phonePad)
            Button(L("client.add")) { Task { _ = await model.add(name: newName, phone: newPhone); newName = ""; newPhone = "" } }
            Button(L("common.cancel"), role: .cancel) {}
        }
        .task {
            await model.reload()
            corrections = (try? book.phoneCorrections()) ?? []
        }
        .alert(L("corrections.title"), isPresented: Binding(get: { !corrections.isEmpty }, set: { if !$0 { corrections = [] } })) {
            Button(L("common.ok")) { try? book.markPhoneCorrectionsSeen(); corrections = [] }
        } message: {
            Text(([L("corrections.intro")] + corrections.map(correctionLine)).joined(separator: "\n"))
        }
        .alert(sync.notice ?? "", isPresented: Binding(get: { sync.notice != nil }, set: { if !$0 { sync.notice = nil } })) {}
    }
}

/// "Анна: +49 89 12345678 — now +498912345678, was +49912345678", in the device's language.
func correctionLine(_ c: PhoneCorrectionRec) -> String {
    switch (c.was, c.now) {
    case let (was?, now?): return String(format: L("corrections.changed"), c.name, c.raw, now, was)
    case let (nil, now?): return String(format: L("corrections.found"), c.name, c.raw, now)
    case let (was, nil): return String(format: L("corrections.lost"), c.name, c.raw, was ?? "")
    }
}

/// The quiet sync line ("Synced 2 min ago", "Offline — 3 changes waiting"); a tap syncs now,
/// as the pull does, for those who do not drag.
struct SyncLineView: View {
    @ObservedObject var sync: SyncModel

    var body: some View {
        if let line = sync.line {
            Button { Task { await sync.syncNow() } } label: {
                Text(line.text).font(.caption).foregroundStyle(color(line.tone))
            }
            .buttonStyle(.plain)
            .accessibilityHint(L("sync.now"))
        }
    }

    private func color(_ tone: SyncTone) -> Color {
        switch tone {
        case .quiet, .busy: return .secondary
        case .waiting: return .orange
        case .problem: return .red
        }
    }
}

struct ClientCardView: View {
    @StateObject var model: ClientCardModel
    let book: ClientBook
    @ObservedObject var sync: SyncModel
    @Environment(\.openURL) private var openURL
    @State private var asking: (channel: String, granted: Bool)?
    @State private var source = consentSources[0]
    @State private var note = ""
    @State private var templates: [TemplateRec] = []
    @State private var editing: ClientCardModel.CardForm?
    @State private var visitAt = Date().addingTimeInterval(24 * 3600)
    @State private var service = ""
    @State private var price = ""

    var body: some View {
        Form {
            if let c = model.client {
                Section {
                    Text((c.clientClass == "vip" ? "★ " : "") + c.name).font(.title2)
                    SyncLineView(sync: sync)
                    ForEach(c.phones, id: \.raw) { Text($0.raw) }
                    if let e = c.email { Text(e) }
                    if let b = c.birthday { Text(L("card.birthday", b)) }
                    if let card = c.loyaltyCard { Text(L("card.loyalty", card)) }
                    if c.discountPercent > 0 { Text(L("card.discount", String(c.discountPercent))) }
                    if let comment = c.comment { Text(comment) }
                    Text("\(c.visits) visits")
                    if let m = model.money { Text(L("card.money", m.sold, m.paid, m.balance)) }
                }
            }
            if let e = model.error { Text(e).foregroundStyle(.red) }
            ConflictsSection(conflicts: model.conflicts) { field, keep in Task { await model.settleConflict(field, keep: keep) } }
            Section("Contact") {
                ForEach(model.actions, id: \.action) { a in
                    Button(a.enabled ? channelLabel(a.action) : "\(channelLabel(a.action)) — \(a.reason ?? "")") {
                        Task {
                            if a.action != "call" { model.channel = a.action }
                            guard let url = await model.link(for: a.action) else { return }
                            openURL(url) { opened in
                                if opened && a.action != "call" { Task { await model.recordSent(a.action) } }
                            }
                        }
                    }
                    .disabled(!a.enabled)
                    .font(.title3)
                }
            }
            Section(L("card.message")) {
                TextField(L("card.text"), text: $model.text, axis: .vertical)
                if let counter = model.smsCounter { Text(counter).font(.caption) }
                if let note = model.whatsAppNote { Text(note).font(.caption) }
                // Through the server's gateway rather than the phone's app: the client sees the
                // business's number, and the status comes back to every device.
                Menu("Send via the business") {
                    ForEach(["sms", "whatsapp", "telegram", "email"], id: \.self) { ch in
                        Button(channelLabel(ch)) {
                            Task { model.channel = ch; await model.loadWhatsAppNote(); await model.sendThroughServer() }
                        }
                    }
                }
                Menu("Template") {
                    ForEach(templates.filter { $0.channel == nil || $0.channel == model.channel }, id: \.id) { t in
                        Button(t.name) { Task { await model.useTemplate(t.id) } }
                    }
                }
            }
            Section(L("card.consent")) {
                ForEach(consentChannels, id: \.self) { ch in
                    let granted = model.consent?.granted.contains(ch) ?? false
                    Toggle(channelLabel(ch), isOn: Binding(get: { granted }, set: { asking = (ch, $0) }))
                }
            }
            Section(L("card.visits")) {
                ForEach(model.visits, id: \.id) { v in
                    Text("\(String(v.start.prefix(16)).replacingOccurrences(of: "T", with: " ")) · \(v.services.map(\.name).joined(separator: ", ")) · \(v.status)")
                        .swipeActions { Button("Ask to confirm") { Task { await model.askToConfirm(v.id) } } }
                }
            }
            Section(L("card.book_visit")) {
                DatePicker("When", selection: $visitAt)
                TextField(L("book.service"), text: $service)
                TextField(L("book.price"), text: $price).keyboardType(.decimalPad)
                Button(L("book.book")) {
                    Task {
                        let agenda = AgendaModel(book: book)
                        await agenda.bookVisit(clientId: model.clientId, at: visitAt, minutes: 60, service: service, price: price)
                        if let e = agenda.error { model.error = e }
                        await model.load()
                    }
                }
            }
            Section(L("list.messages")) {
                ForEach(model.messages, id: \.id) { m in
                    VStack(alignment: .leading) {
                        Text("\(m.kind == "inbound" ? "← " : "→ ")\(String(m.at.prefix(16))) · \(channelLabel(m.channel)) · \(m.status)\(m.detail.map { " · \($0)" } ?? "")").font(.caption)
                        Text(m.body)
                    }
                }
            }
        }
        // Pulled down: sync now, then show the card as it is after the sync.
        .refreshable { await sync.syncNow(); await model.load() }
        .toolbar { Button(L("card.edit")) { editing = model.form() } }
        .sheet(isPresented: Binding(get: { editing != nil }, set: { if !$0 { editing = nil } })) {
            if let f = editing {
                Form {
                    TextField(L("client.name"), text: Binding(get: { f.name }, set: { editing?.name = $0 }))
                    TextField(L("edit.phones"), text: Binding(get: { f.phones }, set: { editing?.phones = $0 }))
                    TextField(L("edit.email"), text: Binding(get: { f.email }, set: { editing?.email = $0 }))
                    TextField(L("edit.birthday"), text: Binding(get: { f.birthday }, set: { editing?.birthday = $0 }))
                    TextField(L("edit.comment"), text: Binding(get: { f.comment }, set: { editing?.comment = $0 }))
                    TextField(L("edit.class"), text: Binding(get: { f.clientClass }, set: { editing?.clientClass = $0 }))
                    TextField(L("edit.tags"), text: Binding(get: { f.tags }, set: { editing?.tags = $0 }))
                    TextField(L("edit.loyalty"), text: Binding(get: { f.loyaltyCard }, set: { editing?.loyaltyCard = $0 }))
                    TextField(L("edit.discount"), text: Binding(get: { f.discountPercent }, set: { editing?.discountPercent = $0 }))
                    Button(L("common.save")) { Task { await model.save(f); editing = nil } }
                }
            }
        }
        .task {
            await model.load()
            templates = (try? book.templates()) ?? []
        }
        // Consent is recorded only with its source.
        .sheet(isPresented: Binding(get: { asking != nil }, set: { if !$0 { asking = nil } })) {
            Form {
                Picker("How was it given?", selection: $source) { ForEach(consentSources, id: \.self) { Text($0) } }
                TextField(L("consent.note"), text: $note)
                Button(L("consent.record")) {
                    guard let a = asking else { return }
                    Task { await model.setConsent(a.channel, granted: a.granted, source: source, note: note); asking = nil; note = "" }
                }
            }
        }
    }
}

struct AgendaView: View {
    @StateObject var model: AgendaModel

    var body: some View {
        List {
            Picker("", selection: $model.week) { Text(L("agenda.day")).tag(false); Text(L("agenda.week")).tag(true) }.pickerStyle(.segmented)
            DatePicker("Date", selection: $model.first, displayedComponents: .date)
            if let e = model.error { Text(e).foregroundStyle(.red) }
            ForEach(model.days, id: \.day) { d in
                Section(d.day.formatted(date: .complete, time: .omitted)) {
                    if d.visits.isEmpty { Text("—") }
                    ForEach(d.visits, id: \.id) { v in
                        VStack(alignment: .leading) {
                            Text("\(String(v.start.dropFirst(11).prefix(5))) \(model.names[v.clientId] ?? "")")
                            Text("\(v.services.map(\.name).joined(separator: ", ")) · \(model.money(v.total))\(v.paid < v.total ? " · due \(model.money(v.total - v.paid))" : "") · \(v.status)")
                                .font(.caption)
                        }
                        .swipeActions {
                            Button("Done") { Task { await model.status(v.id, "completed") } }
                            Button(L("common.cancel"), role: .destructive) { Task { await model.status(v.id, "cancelled") } }
                            Button(L("agenda.reminder_off")) { Task { await model.patch(v.id, VisitPatchRec(reminder: "off")) } }
                        }
                    }
                }
            }
        }
        .onChange(of: model.week) { _ in Task { await model.show() } }
        .onChange(of: model.first) { _ in Task { await model.show() } }
        .task { await model.show() }
        .navigationTitle(L("list.agenda"))
    }
}

struct ImportView: View {
    @StateObject var model: ImportModel
    @State private var picking = false

    var body: some View {
        List {
            Button(L("import.whole")) { Task { if let all = try? await PhoneBook.readAll() { await model.showPreview(all) } } }
            Button("Pick contacts") { picking = true }
            if let e = model.error { Text(e).foregroundStyle(.red) }
            if let p = model.preview {
                Text("\(p.new) new · \(p.duplicate) already in the book · \(p.mergeCandidate) to check · \(p.invalid) unusable")
                ForEach(p.items, id: \.row) { item in
                    Button {
                        model.toggle(item)
                    } label: {
                        HStack {
                            Image(systemName: model.picked.contains(item.row) ? "checkmark.square" : "square")
                            VStack(alignment: .leading) {
                                Text("\(item.name ?? "—") \(item.phones.joined(separator: ", "))")
                                Text("\(item.status.replacingOccurrences(of: "_", with: " ")): \(item.reason)").font(.caption)
                            }
                        }
                    }
                    .disabled(!model.pickable(item))
                }
                Button("Import \(model.picked.count)") { Task { await model.importPicked() } }
            }
            if let done = model.imported { Text("\(done.count) clients imported") }
        }
        .sheet(isPresented: $picking) {
            ContactPickerView { contacts in Task { await model.showPreview(contacts.compactMap(PhoneBook.record)) } }
        }
        .navigationTitle(L("list.import"))
    }
}

/// The system contact picker: no permission needed, the user hands over what they pick.
struct ContactPickerView: UIViewControllerRepresentable {
    let picked: ([CNContact]) -> Void

    func makeUIViewController(context: Context) -> CNContactPickerViewController {
        let vc = CNContactPickerViewController()
        vc.delegate = context.coordinator
        return vc
    }

    func updateUIViewController(_ vc: CNContactPickerViewController, context: Context) {}
    func makeCoordinator() -> Coordinator { Coordinator(picked: picked) }

    final class Coordinator: NSObject, CNContactPickerDelegate {
        let picked: ([CNContact]) -> Void
        init(picked: @escaping ([CNContact]) -> Void) { self.picked = picked }
        func contactPicker(_ picker: CNContactPickerViewController, didSelect contacts: [CNContact]) { picked(contacts) }
    }
}

struct SettingsView: View {
    @StateObject var model: SettingsModel
    @ObservedObject var sync: SyncModel
    @State private var name = ""
    @State private var phone = ""
    @State private var hours = Array(repeating: "", count: 7)
    @State private var server = ""
    @State private var code = ""
    @State private var templateName = ""
    @State private var templateBody = ""
    private let weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    var body: some View {
        Form {
            if let e = model.error { Text(e).foregroundStyle(.red) }
            Section(L("settings.business")) {
                TextField(L("client.name"), text: $name)
                TextField(L("client.phone"), text: $phone)
                Button(L("common.save")) { Task { await model.setDetails(name: name, phone: phone) } }
            }
            Section(L("settings.hours")) {
                ForEach(0..<7, id: \.self) { i in
                    HStack {
                        Text(weekdays[i])
                        TextField("09:00-19:00 or closed", text: $hours[i]).onSubmit { Task { await model.setHours(i, hours[i]) } }
                    }
                }
            }
            Section(L("settings.templates")) {
                ForEach(model.templates, id: \.id) { t in Text("\(t.name): \(t.body)") }
                    .onDelete { idx in for i in idx { let id = model.templates[i].id; Task { await model.remove(template: id) } } }
                TextField(L("client.name"), text: $templateName)
                TextField("{client_name}, see you at {visit_time}", text: $templateBody)
                Button(L("settings.add_template")) { Task { await model.save(TemplateRec(id: "", name: templateName, channel: nil, body: templateBody)) } }
            }
            Section(L("settings.notifications")) {
                ForEach(model.rules, id: \.id) { r in
                    Toggle("\(r.name) (\(r.channels.joined(separator: ", ")))", isOn: Binding(get: { r.enabled }, set: { on in Task { await model.setRule(r, enabled: on) } }))
                }
            }
            Section(L("settings.sync")) {
                if let s = model.sync { Text(s.paired ? L("settings.paired", s.server ?? "", LP("waiting", Int(s.unsynced))) : L("settings.not_paired")) }
                SyncLineView(sync: sync)
                TextField(L("settings.server"), text: $server).textInputAutocapitalization(.never)
                TextField(L("settings.code"), text: $code)
                Button(L("settings.create")) { Task { await model.createOnServer(server, device: UIDevice.current.name); sync.start() } }
                Button(L("settings.join")) { Task { if await model.join(code, server: server, device: UIDevice.current.name) { sync.start() } } }
                Button(L("settings.invite")) { Task { await model.makeInvite() } }
                if let inv = model.invite { Text("Code \(inv.code)"); if let qr = model.inviteQr { Text(qr).font(.caption) } }
                Button(L("settings.devices")) { Task { await model.loadDevices() } }
                ForEach(model.devices, id: \.id) { d in
                    HStack {
                        Text("\(d.name)\(d.owner ? " (owner)" : "")\(d.revoked ? " — removed" : "")")
                        if !d.revoked && !d.owner { Button(L("settings.remove"), role: .destructive) { Task { await model.revoke(d.id) } } }
                    }
                }
            }
        }
        .task {
            await model.load()
            if let b = model.business { name = b.name; phone = b.phone ?? ""; hours = b.workingHours }
        }
        .onOpenURL { url in code = url.absoluteString } // a scanned kartka://pair QR code
        .navigationTitle(L("list.settings"))
    }
}


/// Conversations by status; mirrors InboxActivity.
struct InboxView: View {
    @StateObject var model: InboxModel
    let book: ClientBook
    @ObservedObject var sync: SyncModel
    @State private var attaching: String?
    @State private var candidates: [ClientRec] = []

    var body: some View {
        List {
            Picker("Status", selection: $model.status) {
                Text(L("inbox.unanswered")).tag(String?.some("unanswered"))
                Text(L("inbox.open")).tag(String?.some("open"))
                Text(L("inbox.later")).tag(String?.some("postponed"))
                Text(L("list.all")).tag(String?.none)
            }
            .pickerStyle(.segmented)
            .onChange(of: model.status) { _, s in Task { await model.show(s) } }
            if let e = model.error { Text(e).foregroundStyle(.red) }
            ForEach(model.rows, id: \.clientId) { e in
                NavigationLink(value: e.clientId) {
                    VStack(alignment: .leading) {
                        Text("\(e.name)\(e.lead ? " (new)" : "") · \(e.status)\(e.staffId.flatMap { model.staff[$0] }.map { " · \($0)" } ?? "")")
                        Text("\(e.lastKind == "inbound" ? "←" : "→") \(e.lastChannel.map(channelLabel) ?? ""): \(e.lastBody ?? "")")
                            .font(.caption)
                    }
                }
                .swipeActions {
                    Button(L("inbox.take")) { Task { await model.take(e.clientId) } }
                    Button(L("inbox.tomorrow")) { Task { await model.postpone(e.clientId, until: Date().addingTimeInterval(18 * 3600)) } }
                    Button(L("inbox.close")) { Task { await model.close(e.clientId) } }
                    if e.lead {
                        Button(L("list.new_client")) { Task { await model.takeIn(e.clientId) } }
                        Button(L("inbox.attach")) {
                            candidates = (try? book.findClients(query: "", clientClass: nil, tag: nil, offset: 0, limit: 50)) ?? []
                            attaching = e.clientId
                        }
                    }
                }
            }
        }
        .navigationTitle(L("list.inbox"))
        .navigationDestination(for: String.self) { id in ClientCardView(model: ClientCardModel(book: book, clientId: id), book: book, sync: sync) }
        .confirmationDialog("Attach to", isPresented: Binding(get: { attaching != nil }, set: { if !$0 { attaching = nil } })) {
            ForEach(candidates, id: \.id) { c in
                Button(c.name) { if let lead = attaching { Task { await model.attach(lead, to: c.id) } } }
            }
        }
        .task { await model.load() }
    }
}

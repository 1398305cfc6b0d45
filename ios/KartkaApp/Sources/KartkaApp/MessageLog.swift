import SwiftUI
import KartkaCore

/// The business's message log, newest first; mirrors MessageLog.kt.
@MainActor
final class MessageLogModel: ObservableObject {
    @Published private(set) var rows: [LoggedMessageRec] = []
    @Published private(set) var more = false
    @Published var error: String?
    private var filter = MessageFilterRec()
    private let book: ClientBook
    private let pageSize: UInt32 = 100

    init(book: ClientBook) { self.book = book }

    func show(channel: String? = nil, status: String? = nil, kind: String? = nil) async {
        filter = MessageFilterRec(channel: channel, status: status, kind: kind)
        rows = []
        await load()
    }

    func load() async {
        let (book, f, offset, n) = (self.book, filter, UInt32(rows.count), pageSize)
        switch await offMain({ try book.messageLog(filter: f, offset: offset, limit: n) }) {
        case let .success(page): rows += page; more = page.count == Int(n); error = nil
        case let .failure(e): error = userMessage(e)
        }
    }
}

struct MessageLogView: View {
    @StateObject var model: MessageLogModel

    var body: some View {
        List {
            HStack {
                Button(L("list.all")) { Task { await model.show() } }
                Button(L("log.failed")) { Task { await model.show(status: "failed") } }
                Button(L("log.replies")) { Task { await model.show(kind: "inbound") } }
            }
            .buttonStyle(.bordered)
            if let e = model.error { Text(e).foregroundStyle(.red) }
            ForEach(model.rows, id: \.message.id) { l in
                VStack(alignment: .leading) {
                    Text("\(l.message.kind == "inbound" ? "←" : "→") \(String(l.message.at.prefix(16))) · \(l.clientName) · \(channelLabel(l.message.channel)) · \(l.message.status)")
                        .font(.caption)
                    if let d = l.message.detail { Text(d).font(.caption2) }
                    Text(l.message.body)
                }
                .task { if l.message.id == model.rows.last?.message.id, model.more { await model.load() } }
            }
        }
        .navigationTitle(L("list.messages"))
        .task { await model.show() }
    }
}

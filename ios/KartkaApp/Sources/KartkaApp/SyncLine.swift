import Foundation
import KartkaCore

/// How loud the line is: quiet grey, amber while edits wait offline, red when refused.
enum SyncTone { case quiet, busy, waiting, problem }

/// The quiet status line on the client list and the card; mirrors SyncLine.kt in
/// android/app-logic (the same keys, the same rules, tested there on the JVM).
struct SyncLine: Equatable {
    let text: String
    let tone: SyncTone

    /// `refreshing`: the master pulled to refresh and that sync is still out.
    static func of(_ s: SyncStateRec, now: Date, refreshing: Bool, moment: (String) -> String?) -> SyncLine {
        let problem = s.lastError
        // A revoked phone's book was wiped, pairing and all: say why before "not paired".
        if problem?.kind == .revoked { return SyncLine(text: L("sync.problem.revoked"), tone: .problem) }
        if !s.paired { return SyncLine(text: L("sync.not_paired"), tone: .quiet) }
        if let r = s.receiving {
            let text = receiving(r)
            if let p = problem, !s.syncing { return SyncLine(text: "\(text) · \(words(p.kind))", tone: isOffline(p.kind) ? .waiting : .problem) }
            return SyncLine(text: text, tone: .busy)
        }
        var offline = false
        if case .offline = s.link { offline = true }
        // `syncing` is also true while the foreground loop long-polls for news from elsewhere:
        // only a sync that sends edits, the first one, or one the master asked for says so.
        if refreshing || (s.syncing && !offline && (s.pending > 0 || s.lastSyncedAt == nil)) {
            return SyncLine(text: L("sync.syncing"), tone: .busy)
        }
        let waiting: String? = s.pending > 0 ? count("sync.waiting", Int(s.pending)) : nil
        if let p = problem {
            if isOffline(p.kind) {
                let head = waiting.map { L("sync.offline_with", $0) } ?? L("sync.offline")
                return SyncLine(text: "\(head) · \(words(p.kind))", tone: waiting == nil ? .quiet : .waiting)
            }
            return SyncLine(text: [words(p.kind), waiting].compactMap { $0 }.joined(separator: " · "), tone: .problem)
        }
        let synced = s.lastSyncedAt.map { L("sync.synced", ago($0, now: now, moment: moment)) } ?? L("sync.not_synced")
        return SyncLine(text: [synced, waiting].compactMap { $0 }.joined(separator: " · "), tone: .quiet)
    }

    /// "just now", "2 min ago", "3 hours ago"; a day or more ago, the moment itself.
    static func ago(_ at: String, now: Date, moment: (String) -> String?) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let then = f.date(from: at) ?? ISO8601DateFormatter().date(from: at) else { return at }
        let minutes = max(0, Int(now.timeIntervalSince(then) / 60))
        if minutes < 1 { return L("sync.ago.now") }
        if minutes < 60 { return count("sync.ago.min", minutes) }
        if minutes < 24 * 60 { return count("sync.ago.hours", minutes / 60) }
        return moment(at) ?? String(at.prefix(10))
    }

    static func words(_ kind: SyncProblemKind) -> String {
        switch kind {
        case .unreachable: return L("sync.problem.unreachable")
        case .timedOut: return L("sync.problem.timed_out")
        case .connectionLost: return L("sync.problem.connection_lost")
        case .refused: return L("sync.problem.refused")
        case .serverFault: return L("sync.problem.server_fault")
        case .revoked: return L("sync.problem.revoked")
        case .local: return L("sync.problem.local")
        }
    }

    /// The core's `ProblemKind::is_offline`: the server was not there; edits wait, nothing is wrong.
    static func isOffline(_ kind: SyncProblemKind) -> Bool {
        kind == .unreachable || kind == .timedOut || kind == .connectionLost
    }

    private static func receiving(_ r: ReceivingRec) -> String {
        if let total = r.total, total > 0 {
            return L("sync.receiving_of.\(pluralForm(Int(total)))", number(Int(r.received)), number(Int(total)))
        }
        return r.received > 0 ? L("sync.receiving_so_far", number(Int(r.received))) : L("sync.receiving")
    }
}

/// A count as the language writes it: 12,000 in English, 12 000 in Ukrainian.
func number(_ n: Int) -> String {
    let f = NumberFormatter()
    f.numberStyle = .decimal
    f.locale = Locale(identifier: Bundle.module.preferredLocalizations.first ?? "en")
    return f.string(from: NSNumber(value: n)) ?? String(n)
}

/// LP with the count written by `number` (the keys take `%@`).
func count(_ key: String, _ n: Int) -> String {
    L("\(key).\(pluralForm(n))", number(n))
}

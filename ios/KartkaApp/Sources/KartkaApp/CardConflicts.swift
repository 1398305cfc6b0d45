import SwiftUI

/// Edits made on two phones at once, as the client card shows them (issue 24); mirrors
/// android/app-logic's CardConflicts.kt: the core finds and settles them, this only words them.
struct CardConflict: Identifiable {
    struct Choice: Identifiable {
        let index: UInt32
        /// «Anna Koval» — this phone (shown now).
        let line: String
        /// "Keep «Anna Koval»", what VoiceOver reads for "Keep this".
        let describe: String
        var id: UInt32 { index }
    }

    /// The core's field key (`name`, `phones`, `visit-time:<id>`…), for settleConflict.
    let field: String
    /// "2 phones changed the name while apart".
    let title: String
    let choices: [Choice]
    /// "Keep both numbers": phone lists only.
    let keepAll: String?
    var id: String { field }
}

/// The language the strings are read in, for the core's date words.
private var stringsLanguage: String { Bundle.module.preferredLocalizations.first ?? "en" }

/// `one`, `few` or `many`: the rule LP uses, for a key whose count is one argument of several.
private func pluralForm(_ n: Int) -> String {
    let (mod10, mod100) = (n % 10, n % 100)
    let few = (2...4).contains(mod10) && !(12...14).contains(mod100)
    switch stringsLanguage {
    case "uk", "ru": return mod10 == 1 && mod100 != 11 ? "one" : few ? "few" : "many"
    case "pl": return n == 1 ? "one" : few ? "few" : "many"
    default: return n == 1 ? "one" : "many"
    }
}

/// The card's conflicts in the device's words; a visit's time on the business's clock, by the core.
func cardConflicts(book: ClientBook, clientId: String) throws -> [CardConflict] {
    let conflicts = try book.clientConflicts(clientId: clientId)
    if conflicts.isEmpty { return [] }
    let visits = Dictionary(uniqueKeysWithValues: try book.clientVisits(clientId: clientId).map { ($0.id, $0) })
    return try conflicts.map { c in
        let what: String
        if c.kind == "visit_time" {
            let services = c.visitId.flatMap { visits[$0] }?.services.map(\.name).joined(separator: ", ") ?? ""
            what = services.isEmpty ? L("conflict.field.visit") : L("conflict.field.visit_time", services)
        } else {
            what = L("conflict.field.\(c.kind)")
        }
        let choices = try c.values.enumerated().map { i, v -> CardConflict.Choice in
            let shown: String
            if let t = v.time {
                shown = try book.formatMoment(at: t, language: stringsLanguage)
            } else if c.kind == "phones" {
                shown = v.phones.isEmpty ? L("conflict.empty") : v.phones.joined(separator: ", ")
            } else {
                shown = v.display.isEmpty ? L("conflict.empty") : v.display
            }
            let author = v.byThisDevice ? L("conflict.this_phone")
                : v.byName.map { L("conflict.their_phone", $0) } ?? L("conflict.other_phone")
            let mark = c.current == UInt32(i) ? " (\(L("conflict.shown")))" : ""
            return .init(index: UInt32(i), line: L("conflict.value", shown, author) + mark, describe: L("conflict.keep_value", shown))
        }
        return CardConflict(
            field: c.field,
            title: L("conflict.changed.\(pluralForm(c.values.count))", String(c.values.count), what),
            choices: choices,
            keepAll: c.canKeepAll ? L(c.values.count == 2 ? "conflict.keep_both" : "conflict.keep_all") : nil
        )
    }
}

/// Keeps one value (`keep` nil: every number). One settled on another phone meanwhile is what
/// the master wanted anyway: no error, the card just reloads.
func settleCardConflict(book: ClientBook, clientId: String, field: String, keep: UInt32?) throws {
    do {
        _ = try book.settleConflict(clientId: clientId, field: field, keep: keep)
    } catch ApiError.NoConflict {
    }
}

/// The card's section: each field two phones changed apart, "Keep this" beside each value.
struct ConflictsSection: View {
    let conflicts: [CardConflict]
    let settle: (String, UInt32?) -> Void

    var body: some View {
        if !conflicts.isEmpty {
            Section(L("conflict.heading")) {
                ForEach(conflicts) { c in
                    Text(c.title)
                    ForEach(c.choices) { choice in
                        HStack {
                            Text(choice.line)
                            Spacer()
                            Button(L("conflict.keep")) { settle(c.field, choice.index) }
                                .buttonStyle(.bordered)
                                .accessibilityLabel(choice.describe)
                        }
                    }
                    if let all = c.keepAll {
                        Button(all) { settle(c.field, nil) }
                    }
                }
            }
        }
    }
}

import Contacts
import Foundation
import KartkaCore

/// Reads the phone book into the core's contact records; mirrors PhoneBook.kt. Works under
/// full and limited access (iOS 18: the contacts the user shared); the system picker
/// (ContactPickerView) needs no permission at all.
enum PhoneBook {
    static let keys: [CNKeyDescriptor] = [
        CNContactGivenNameKey, CNContactFamilyNameKey, CNContactPhoneNumbersKey, CNContactEmailAddressesKey,
        CNContactBirthdayKey, CNContactIdentifierKey,
        CNContactFormatter.descriptorForRequiredKeys(for: .fullName),
    ] as [CNKeyDescriptor]

    /// Asks for access at the moment of use, then reads every contact the app may see.
    static func readAll() async throws -> [ContactRec] {
        let store = CNContactStore()
        guard try await store.requestAccess(for: .contacts) else { return [] }
        return try await Task.detached {
            var out: [ContactRec] = []
            try store.enumerateContacts(with: CNContactFetchRequest(keysToFetch: keys)) { c, _ in
                if let rec = record(c) { out.append(rec) }
            }
            return out
        }.value
    }

    static func record(_ c: CNContact) -> ContactRec? {
        let phones = c.phoneNumbers.map { p in
            ContactPhoneRec(number: p.value.stringValue, label: p.label.map { CNLabeledValue<NSString>.localizedString(forLabel: $0) } ?? "other")
        }
        let emails = c.emailAddresses.map { $0.value as String }
        let display = CNContactFormatter.string(from: c, style: .fullName)
        if display == nil && phones.isEmpty && emails.isEmpty { return nil }
        var birthday: String?
        if let b = c.birthday, let m = b.month, let d = b.day {
            birthday = b.year.map { String(format: "%04d-%02d-%02d", $0, m, d) } ?? String(format: "--%02d-%02d", m, d)
        }
        return ContactRec(givenName: c.givenName.isEmpty ? nil : c.givenName,
                          familyName: c.familyName.isEmpty ? nil : c.familyName,
                          displayName: display, phones: phones, emails: emails, birthday: birthday,
                          note: nil, platformId: c.identifier, account: nil)
    }
}

/// Import: preview against the book, pick, import in one transaction; mirrors Import.kt.
@MainActor
final class ImportModel: ObservableObject {
    @Published private(set) var preview: ImportPreviewRec?
    @Published var picked: Set<UInt32> = []
    @Published var error: String?
    @Published private(set) var imported: [String]?
    private var contacts: [ContactRec] = []
    private let book: ClientBook

    init(book: ClientBook) { self.book = book }

    func showPreview(_ contacts: [ContactRec]) async {
        self.contacts = contacts
        let book = self.book
        switch await offMain({ try book.previewImport(contacts: contacts) }) {
        case let .success(p):
            preview = p
            picked = Set(p.items.filter { $0.status == "new" }.map(\.row))
        case let .failure(e): error = userMessage(e)
        }
    }

    func pickable(_ item: PreviewItemRec) -> Bool { item.status == "new" || item.status == "merge_candidate" }

    func toggle(_ item: PreviewItemRec) {
        guard pickable(item) else { return }
        if picked.contains(item.row) { picked.remove(item.row) } else { picked.insert(item.row) }
    }

    func importPicked() async {
        let (book, contacts, rows) = (self.book, self.contacts, picked.sorted())
        guard !rows.isEmpty else { return }
        switch await offMain({ try book.importContacts(contacts: contacts, picked: rows) }) {
        case let .success(ids): imported = ids
        case let .failure(e): error = userMessage(e)
        }
    }
}

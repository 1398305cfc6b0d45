// The iOS app's entry point, for an Xcode iOS app target that depends on the KartkaApp package
// and uses Info.plist from this folder (README, "iOS"). Not compiled here (no Swift toolchain).
import BackgroundTasks
import KartkaApp
import KartkaCore
import Security
import SwiftUI

@main
struct KartkaMain: App {
    @Environment(\.scenePhase) private var phase
    private let book: ClientBook
    @StateObject private var sync: SyncModel

    init() {
        let dir = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let book = try! ClientBook.openEncrypted(path: dir.appendingPathComponent("kartka.db").path, key: BookKey.get())
        self.book = book
        _sync = StateObject(wrappedValue: SyncModel(book: book))
        BGTaskScheduler.shared.register(forTaskWithIdentifier: "app.kartka.sync", using: nil) { task in
            // Background refresh: one push and pull, then the next one is asked for.
            let worker = Thread { _ = try? book.syncNow(); task.setTaskCompleted(success: true) }
            task.expirationHandler = { task.setTaskCompleted(success: false) }
            worker.start()
            KartkaMain.scheduleRefresh()
        }
    }

    var body: some Scene {
        WindowGroup { RootView(book: book, sync: sync) }
            .onChange(of: phase) { p in
                switch p {
                case .active: if (try? book.syncInfo().paired) == true { sync.start() }
                case .background: sync.stop(); KartkaMain.scheduleRefresh()
                default: break
                }
            }
    }

    static func scheduleRefresh() {
        let r = BGAppRefreshTaskRequest(identifier: "app.kartka.sync")
        r.earliestBeginDate = Date(timeIntervalSinceNow: 15 * 60)
        try? BGTaskScheduler.shared.submit(r)
    }
}

/// The book's 32-byte key in the Keychain, this device only, readable after first unlock (so
/// background refresh can open the book).
enum BookKey {
    static func get() -> Data {
        let query: [String: Any] = [kSecClass as String: kSecClassGenericPassword, kSecAttrService as String: "app.kartka.book-key",
                                    kSecReturnData as String: true]
        var out: CFTypeRef?
        if SecItemCopyMatching(query as CFDictionary, &out) == errSecSuccess, let d = out as? Data { return d }
        var key = Data(count: 32)
        _ = key.withUnsafeMutableBytes { SecRandomCopyBytes(kSecRandomDefault, 32, $0.baseAddress!) }
        let add: [String: Any] = [kSecClass as String: kSecClassGenericPassword, kSecAttrService as String: "app.kartka.book-key",
                                  kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly, kSecValueData as String: key]
        SecItemAdd(add as CFDictionary, nil)
        return key
    }
}

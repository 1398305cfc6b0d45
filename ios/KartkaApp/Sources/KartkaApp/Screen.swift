import Foundation
import KartkaCore

/// Runs a blocking book call off the main actor (the core blocks while it reads or writes) and
/// turns a typed core error into the sentence the master reads. Mirrors Screen.kt.
func offMain<T>(_ block: @escaping @Sendable () throws -> T) async -> Result<T, ApiError> {
    await Task.detached(priority: .userInitiated) {
        do { return .success(try block()) } catch let e as ApiError { return .failure(e) } catch {
            return .failure(.Storage(detail: "\(error)"))
        }
    }.value
}

func userMessage(_ e: ApiError) -> String {
    switch e {
    case let .Validation(field, reason): return L("error.check", fieldLabel(field), reason)
    case let .NotFound(what): return L("error.not_found", whatLabel(what))
    case let .NoConsent(channel): return L("error.no_consent", channelLabel(channel))
    case let .NoAddress(what): return L("error.no_address", whatLabel(what))
    case .WhatsAppWindowClosed: return L("error.whatsapp_window")
    case .Network: return L("error.network")
    case .NotPaired: return L("error.not_paired")
    case .Revoked: return L("error.revoked")
    case let .Server(_, detail): return detail
    default: return "\(e)"
    }
}

/// A thing the core names in a refusal (`client`, `phone number`) in the device's language.
func whatLabel(_ what: String) -> String {
    let key = "what.\(what)"
    let word = L(key)
    return word == key ? what : word
}

/// An RFC 3339 instant from the core: with milliseconds when they are not zero, without
/// otherwise (ISO8601DateFormatter reads one form or the other, not both).
func instant(_ s: String) -> Date? {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.date(from: s) ?? ISO8601DateFormatter().date(from: s)
}

/// `discount_percent` → "discount percent", `VisitStatus` → "visit status".
func fieldLabel(_ field: String) -> String {
    var out = ""
    for (i, ch) in field.enumerated() {
        if ch.isUppercase && i > 0 { out.append(" ") }
        out.append(ch == "_" ? " " : Character(ch.lowercased()))
    }
    return out
}

func channelLabel(_ channel: String) -> String {
    switch channel {
    case "sms": return "SMS"
    case "whatsapp": return "WhatsApp"
    case "telegram": return "Telegram"
    case "viber": return "Viber"
    case "call": return "Call"
    default: return channel
    }
}

let consentSources = ["verbal", "written", "booking_form", "client_reply", "other"]
let consentChannels = ["sms", "whatsapp", "telegram", "viber", "email", "marketing"]

/// A pairing code from a scanned QR code (`kartka://pair?server=…&code=…`) or typed by hand.
struct PairingCode: Equatable {
    var server: String?
    var code: String

    static func parse(_ text: String) -> PairingCode? {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard t.hasPrefix("kartka://pair?") else {
            let code = t.filter { $0.isLetter || $0.isNumber || $0 == "-" }
            return code.count >= 6 ? PairingCode(server: nil, code: code) : nil
        }
        let items = URLComponents(string: t)?.queryItems ?? []
        guard let server = items.first(where: { $0.name == "server" })?.value,
              server.hasPrefix("http://") || server.hasPrefix("https://"),
              let code = items.first(where: { $0.name == "code" })?.value, !code.isEmpty
        else { return nil }
        return PairingCode(server: server, code: code)
    }

    var uri: String? {
        guard let server else { return nil }
        var c = URLComponents(string: "kartka://pair")!
        c.queryItems = [URLQueryItem(name: "server", value: server), URLQueryItem(name: "code", value: code)]
        return c.string
    }
}

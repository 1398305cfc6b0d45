import Foundation

/// The apps' words in the device's language (uk, ru, pl; English otherwise), from this package's
/// Localizable.strings: generated from android/app-logic's tables, so both apps use one set of
/// keys and translations.
func L(_ key: String) -> String {
    NSLocalizedString(key, bundle: .module, comment: "")
}

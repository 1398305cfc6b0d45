import Foundation

/// The apps' words in the device's language (uk, ru, pl; English otherwise), from this package's
/// Localizable.strings: generated from android/app-logic's tables, so both apps use one set of
/// keys and translations.
func L(_ key: String) -> String {
    NSLocalizedString(key, bundle: .module, comment: "")
}

/// A key whose words take arguments (`%@`, `%1$@`, `%ld`): "owes %@", "Paired with %1$@; %2$@".
func L(_ key: String, _ args: CVarArg...) -> String {
    String(format: L(key), arguments: args)
}

/// "1 візит / 2 візити / 5 візитів": `key.one`, `key.few` or `key.many` by the rule of the
/// language the strings are read in (the same CLDR rules as android/app-logic's Strings).
func LP(_ key: String, _ n: Int) -> String {
    L("\(key).\(pluralForm(n))", n)
}

/// `one`, `few` or `many` for `n` in the language the strings are read in.
func pluralForm(_ n: Int) -> String {
    let language = Bundle.module.preferredLocalizations.first ?? "en"
    let (mod10, mod100) = (n % 10, n % 100)
    let few = (2...4).contains(mod10) && !(12...14).contains(mod100)
    switch language {
    case "uk", "ru": return mod10 == 1 && mod100 != 11 ? "one" : few ? "few" : "many"
    case "pl": return n == 1 ? "one" : few ? "few" : "many"
    default: return n == 1 ? "one" : "many"
    }
}

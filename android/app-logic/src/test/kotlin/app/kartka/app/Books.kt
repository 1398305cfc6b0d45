package app.kartka.app

import app.kartka.core.ClientBook
import app.kartka.core.NewBusinessRec
import app.kartka.core.NewClientRec
import java.nio.file.Files

/** A real book in a fresh SQLite file, with a Ukrainian business in Kyiv. */
fun newBook(): ClientBook {
    val dir = Files.createTempDirectory("kartka-app").toFile()
    dir.deleteOnExit()
    val book = ClientBook.open(dir.resolve("book.db").path)
    book.initBusiness(NewBusinessRec("Студія", "UA", "Europe/Kyiv", "UAH", "uk"))
    return book
}

fun ClientBook.client(name: String, vararg phones: String, email: String? = null, cls: String? = null, tags: List<String> = emptyList()) =
    addClient(NewClientRec(name, phones.toList(), email, null, null, cls, tags))

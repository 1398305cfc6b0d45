-- Schema 6: conversations. A client's conversation (status, since, postponed until, who has
-- it) is projected onto the client row, so the inbox is one indexed read; staff notes on it get
-- their own table. `lead` marks a card the server made for an unknown sender: it is projected
-- as not in the book (`deleted = 1`), so lists, search, imports and mailings never see it, and
-- the inbox reads it by this column.
ALTER TABLE clients ADD COLUMN lead INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN conv_status TEXT;
ALTER TABLE clients ADD COLUMN conv_at INTEGER;
ALTER TABLE clients ADD COLUMN conv_until INTEGER;
ALTER TABLE clients ADD COLUMN conv_staff BLOB;
CREATE INDEX clients_by_conversation ON clients (conv_at) WHERE conv_status IS NOT NULL;

CREATE TABLE notes (
    id         BLOB PRIMARY KEY,
    client_rid INTEGER NOT NULL,
    body       TEXT NOT NULL,
    at         INTEGER NOT NULL,
    staff_id   BLOB,
    device_id  BLOB
) WITHOUT ROWID;
CREATE INDEX notes_by_client ON notes (client_rid, at);

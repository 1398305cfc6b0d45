-- Schema 7: the numbers a new phone reader read differently from what the cards stored (issue 23:
-- the old one turned some foreign numbers into strangers' and rejected Russian landlines), kept
-- until the master has seen them. Which reader last read the book is the `phone_reader` meta
-- key; the cards themselves are corrected by ordinary edits, which sync.
CREATE TABLE phone_corrections (
    client_id BLOB NOT NULL,
    raw       TEXT NOT NULL,
    was       TEXT,
    now       TEXT,
    at        INTEGER NOT NULL,
    seen      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (client_id, raw)
) WITHOUT ROWID;

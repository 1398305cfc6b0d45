-- Schema 4: the right to erasure.
--
-- Clients forgotten on request. The id (random, nothing of the person) and when; `sent` once the
-- server has recorded the erasure. A document listed here is never taken in again, from the
-- server or from anywhere else: automerge would bring the old history back with it.
CREATE TABLE erased (
    id   BLOB PRIMARY KEY,
    at   INTEGER NOT NULL,
    sent INTEGER NOT NULL
) WITHOUT ROWID;

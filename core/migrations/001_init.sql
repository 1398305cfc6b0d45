-- Kartka local store, schema 1.
--
-- `docs` holds the automerge documents: the replicated source of truth. Every other table is a
-- projection of them, rebuilt from `docs` at will, that serves every read. Child tables point at
-- `clients.rid` (a local integer) rather than the 16-byte client id to keep the projection small.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- A rowid table, not WITHOUT ROWID: documents are kilobytes, and WITHOUT ROWID b-trees spill
-- rows that large to overflow pages (measured: 4x the bytes on disk).
CREATE TABLE docs (
    rid  INTEGER PRIMARY KEY,
    id   BLOB NOT NULL UNIQUE,        -- UUID, 16 bytes
    kind TEXT NOT NULL CHECK (kind IN ('business', 'client')),
    data BLOB NOT NULL                -- Automerge::save()
);

CREATE TABLE clients (
    rid          INTEGER PRIMARY KEY,
    id           BLOB NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    sort_key     TEXT NOT NULL,       -- folded name (see fold.rs), for ordering and prefix search
    given_name   TEXT,
    family_name  TEXT,
    phones       TEXT NOT NULL,       -- JSON array of {e164, raw, label, primary}
    email        TEXT,
    email_key    TEXT,                -- folded email
    birthday     TEXT,                -- 1990-04-15 or --04-15
    birth_md     TEXT,                -- 04-15, for birthday queries
    comment      TEXT,
    class        TEXT NOT NULL,
    tags         TEXT NOT NULL,       -- JSON array
    loyalty_card TEXT,
    discount     INTEGER NOT NULL,
    source       TEXT NOT NULL,
    consent      INTEGER NOT NULL,    -- bit i set: Channel::ALL[i] granted
    notify_off   INTEGER NOT NULL,    -- bit i set: NotificationKind::ALL[i] opted out
    visits       INTEGER NOT NULL,    -- visits that took place
    sold         INTEGER NOT NULL,    -- minor units
    paid         INTEGER NOT NULL,    -- minor units
    last_visit   INTEGER,             -- ms since epoch
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted      INTEGER NOT NULL
);
CREATE INDEX clients_by_name ON clients (deleted, sort_key);
CREATE INDEX clients_by_email ON clients (email_key) WHERE email_key IS NOT NULL;

CREATE TABLE client_tags (
    tag        TEXT NOT NULL,
    client_rid INTEGER NOT NULL,
    PRIMARY KEY (tag, client_rid)
) WITHOUT ROWID;
CREATE INDEX client_tags_by_client ON client_tags (client_rid);

-- Search keys: each word of the folded name and email, and each digit form of each phone.
-- name_words carries the client's sort key so that word-prefix matches come out of the index
-- already in name order: search reads 50 rows, not every client called Olena.
CREATE TABLE name_words (
    word       TEXT NOT NULL,
    sort_key   TEXT NOT NULL,
    client_rid INTEGER NOT NULL,
    PRIMARY KEY (word, sort_key, client_rid)
) WITHOUT ROWID;

CREATE TABLE phone_keys (
    key        TEXT NOT NULL,
    client_rid INTEGER NOT NULL,
    PRIMARY KEY (key, client_rid)
) WITHOUT ROWID;

-- A client's rows are rewritten whole on every change: these make that a lookup, not a scan.
CREATE INDEX name_words_by_client ON name_words (client_rid);
CREATE INDEX phone_keys_by_client ON phone_keys (client_rid);

-- Substring search over the folded name and email; rowid = clients.rid.
CREATE VIRTUAL TABLE client_fts USING fts5 (text, tokenize = 'trigram');

CREATE TABLE visits (
    id                BLOB PRIMARY KEY,
    client_rid        INTEGER NOT NULL,
    start_at          INTEGER NOT NULL,   -- ms since epoch, UTC
    zone              TEXT NOT NULL,
    duration_min      INTEGER NOT NULL,
    services          TEXT NOT NULL,      -- JSON array of {name, price, quantity}
    total             INTEGER NOT NULL,
    paid              INTEGER NOT NULL,
    status            TEXT NOT NULL,
    staff_id          BLOB,
    note              TEXT,
    reminder          INTEGER,            -- NULL: rules decide; -1: off; else minutes before
    repeat_after_days INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    deleted           INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX visits_by_client ON visits (client_rid, start_at);
CREATE INDEX visits_by_start ON visits (start_at);

CREATE TABLE consent_events (
    id         BLOB PRIMARY KEY,
    client_rid INTEGER NOT NULL,
    subject    TEXT NOT NULL,
    granted    INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    staff_id   BLOB,
    device_id  BLOB NOT NULL,
    source     TEXT NOT NULL,
    note       TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX consent_events_by_client ON consent_events (client_rid, at);

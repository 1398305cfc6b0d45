-- Kartka sync server, SQLite, schema 1.

CREATE TABLE businesses (
    id         BLOB PRIMARY KEY,          -- the id of the business's settings document
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,          -- Unix milliseconds
    seq        INTEGER NOT NULL DEFAULT 0 -- the last sequence number of its change feed
);

CREATE TABLE devices (
    id          BLOB PRIMARY KEY,
    business_id BLOB NOT NULL REFERENCES businesses (id),
    name        TEXT NOT NULL,
    owner       INTEGER NOT NULL,
    token_hash  BLOB NOT NULL UNIQUE,     -- SHA-256 of the token; the token itself is never kept
    created_at  INTEGER NOT NULL,
    last_seen   INTEGER,
    revoked_at  INTEGER
);
CREATE INDEX devices_by_business ON devices (business_id);

CREATE TABLE invites (
    code_hash   BLOB PRIMARY KEY,
    business_id BLOB NOT NULL REFERENCES businesses (id),
    created_by  BLOB NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);

-- Every document whole, with the feed sequence number of its last change: a fresh device pages
-- through documents in that order.
CREATE TABLE docs (
    rid         INTEGER PRIMARY KEY,
    id          BLOB NOT NULL UNIQUE,
    business_id BLOB NOT NULL REFERENCES businesses (id),
    kind        TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    data        BLOB NOT NULL
);
CREATE INDEX docs_by_seq ON docs (business_id, seq);

-- The change feed: only the changes that were new to the server, in commit order per business.
CREATE TABLE feed (
    business_id BLOB NOT NULL,
    seq         INTEGER NOT NULL,
    doc_id      BLOB NOT NULL,
    origin      BLOB,                     -- the device that pushed it; NULL: the server itself
    changes     BLOB NOT NULL,
    PRIMARY KEY (business_id, seq)
) WITHOUT ROWID;

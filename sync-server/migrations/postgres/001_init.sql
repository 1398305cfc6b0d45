-- Kartka sync server, PostgreSQL, schema 1. The same tables as the SQLite schema.

CREATE TABLE businesses (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    seq        BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE devices (
    id          UUID PRIMARY KEY,
    business_id UUID NOT NULL REFERENCES businesses (id),
    name        TEXT NOT NULL,
    owner       BOOLEAN NOT NULL,
    token_hash  BYTEA NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT,
    revoked_at  BIGINT
);
CREATE INDEX devices_by_business ON devices (business_id);

CREATE TABLE invites (
    code_hash   BYTEA PRIMARY KEY,
    business_id UUID NOT NULL REFERENCES businesses (id),
    created_by  UUID NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE TABLE docs (
    id          UUID PRIMARY KEY,
    business_id UUID NOT NULL REFERENCES businesses (id),
    kind        TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    data        BYTEA NOT NULL
);
CREATE INDEX docs_by_seq ON docs (business_id, seq);

CREATE TABLE feed (
    business_id UUID NOT NULL,
    seq         BIGINT NOT NULL,
    doc_id      UUID NOT NULL,
    origin      UUID,
    changes     BYTEA NOT NULL,
    PRIMARY KEY (business_id, seq)
);

-- Kartka sync server, PostgreSQL, schema 4: walls between businesses (see the SQLite twin).
CREATE TABLE writers (
    address     TEXT NOT NULL,
    channel     TEXT NOT NULL,
    business_id UUID NOT NULL,
    client_id   UUID NOT NULL,
    visit_id    UUID,
    at_ms       BIGINT NOT NULL,
    PRIMARY KEY (address, channel, business_id)
);
CREATE TABLE unattributed (
    provider_id  TEXT PRIMARY KEY,
    address      TEXT NOT NULL,
    channel      TEXT NOT NULL,
    contact_kind TEXT NOT NULL,
    body         TEXT NOT NULL,
    name         TEXT,
    at_ms        BIGINT NOT NULL
);
CREATE INDEX unattributed_by_address ON unattributed (address, channel);

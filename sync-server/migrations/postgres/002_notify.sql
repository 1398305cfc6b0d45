-- Kartka sync server, PostgreSQL, schema 2: the notification schedule and outbox. The same
-- tables as the SQLite schema.

CREATE TABLE sched_cursor (
    business_id UUID PRIMARY KEY,
    seq         BIGINT NOT NULL DEFAULT 0,
    sweep_after UUID,
    swept_day   TEXT
);

CREATE TABLE sched_visits (
    visit_id    UUID PRIMARY KEY,
    client_id   UUID NOT NULL,
    start_ms    BIGINT NOT NULL,
    status      TEXT NOT NULL,
    deleted     BOOLEAN NOT NULL
);
CREATE INDEX sched_visits_by_client ON sched_visits (client_id);

CREATE TABLE client_contacts (
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    business_id UUID NOT NULL,
    client_id   UUID NOT NULL,
    PRIMARY KEY (kind, value, client_id)
);
CREATE INDEX client_contacts_by_client ON client_contacts (client_id);

CREATE TABLE messages (
    rid         BIGSERIAL PRIMARY KEY,
    id          UUID NOT NULL UNIQUE,
    business_id UUID NOT NULL,
    client_id   UUID NOT NULL,
    visit_id    UUID,
    rule_id     UUID NOT NULL,
    channel     TEXT NOT NULL,
    key         TEXT NOT NULL,
    kind        TEXT NOT NULL,
    derived     BOOLEAN NOT NULL,
    due_ms      BIGINT NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    claimed_by  UUID,
    claimed_ms  BIGINT,
    gateway     TEXT,
    gateway_ref TEXT,
    body        TEXT,
    detail      TEXT,
    recorded    TEXT,
    created_ms  BIGINT NOT NULL,
    updated_ms  BIGINT NOT NULL,
    UNIQUE (business_id, rule_id, channel, key)
);
CREATE INDEX messages_due ON messages (due_ms) WHERE state = 'scheduled';
CREATE INDEX messages_sending ON messages (claimed_ms) WHERE state = 'sending';
CREATE INDEX messages_by_client ON messages (client_id);
CREATE INDEX messages_unrecorded ON messages (updated_ms)
    WHERE recorded IS DISTINCT FROM state AND state NOT IN ('scheduled', 'sending', 'cancelled');
CREATE INDEX messages_by_ref ON messages (gateway, gateway_ref) WHERE gateway_ref IS NOT NULL;

CREATE TABLE webhook_seen (
    id         TEXT PRIMARY KEY,
    seen_ms    BIGINT NOT NULL
);

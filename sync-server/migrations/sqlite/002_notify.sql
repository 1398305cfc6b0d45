-- Kartka sync server, SQLite, schema 2: the notification schedule and outbox.

-- How far the scheduler has read each business's feed, and its sweeps over every client (after
-- a rule or the hours change, and once a local day for birthdays and repeat visits).
CREATE TABLE sched_cursor (
    business_id BLOB PRIMARY KEY,
    seq         INTEGER NOT NULL DEFAULT 0,
    sweep_after BLOB,                     -- NULL: no sweep running; else the last client swept
    swept_day   TEXT                      -- the business's local date of the last full sweep
);

-- Each visit as the scheduler last saw it: events (booked, moved, status changed) are found by
-- comparing with it.
CREATE TABLE sched_visits (
    visit_id    BLOB PRIMARY KEY,
    client_id   BLOB NOT NULL,
    start_ms    INTEGER NOT NULL,
    status      TEXT NOT NULL,
    deleted     INTEGER NOT NULL
);
CREATE INDEX sched_visits_by_client ON sched_visits (client_id);

-- How a client is reached, for replies and webhooks that name only a number or a chat
-- (an opt-out by SMS, a Telegram /stop): kind is 'phone' (E.164) or 'telegram' (chat id).
CREATE TABLE client_contacts (
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    business_id BLOB NOT NULL,
    client_id   BLOB NOT NULL,
    PRIMARY KEY (kind, value, client_id)
);
CREATE INDEX client_contacts_by_client ON client_contacts (client_id);

-- Every message the rules called for, and where it stands (ARCHITECTURE.md, "Scheduler state
-- machine"). The unique key is the promise that one occurrence is never scheduled twice.
CREATE TABLE messages (
    rid         INTEGER PRIMARY KEY,
    id          BLOB NOT NULL UNIQUE,
    business_id BLOB NOT NULL,
    client_id   BLOB NOT NULL,
    visit_id    BLOB,
    rule_id     BLOB NOT NULL,
    channel     TEXT NOT NULL,
    key         TEXT NOT NULL,
    kind        TEXT NOT NULL,            -- the notification type (a client can opt out of one)
    derived     INTEGER NOT NULL,         -- 1: follows the document's state; 0: an event
    due_ms      INTEGER NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    claimed_by  BLOB,                     -- the process sending it
    claimed_ms  INTEGER,
    gateway     TEXT,
    gateway_ref TEXT,                     -- the provider's id, for status callbacks
    body        TEXT,                     -- what was sent
    detail      TEXT,                     -- why it failed or was skipped
    recorded    TEXT,                     -- the state last written into the client's history
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    UNIQUE (business_id, rule_id, channel, key)
);
CREATE INDEX messages_due ON messages (due_ms) WHERE state = 'scheduled';
CREATE INDEX messages_sending ON messages (claimed_ms) WHERE state = 'sending';
CREATE INDEX messages_by_client ON messages (client_id);
CREATE INDEX messages_unrecorded ON messages (updated_ms)
    WHERE recorded IS NOT state AND state NOT IN ('scheduled', 'sending', 'cancelled');
CREATE INDEX messages_by_ref ON messages (gateway, gateway_ref) WHERE gateway_ref IS NOT NULL;

-- Webhook deliveries already handled, by the provider's own id: a replayed callback is ignored.
CREATE TABLE webhook_seen (
    id         TEXT PRIMARY KEY,
    seen_ms    INTEGER NOT NULL
);

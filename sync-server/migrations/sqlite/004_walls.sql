-- Kartka sync server, SQLite, schema 4: walls between businesses on shared numbers.
--
-- Which business last wrote to which address (an E.164 number, a Telegram chat, an email
-- address) on which channel, and about which client and visit. Written by the dispatcher before
-- every send, so a reply that arrives on a number several businesses share is attributed to the
-- one that wrote last, never fanned out (see ARCHITECTURE.md, "Inbound attribution").
CREATE TABLE writers (
    address     TEXT NOT NULL,
    channel     TEXT NOT NULL,
    business_id BLOB NOT NULL,
    client_id   BLOB NOT NULL,
    visit_id    BLOB,
    at_ms       INTEGER NOT NULL,         -- Unix milliseconds of the last send
    PRIMARY KEY (address, channel, business_id)
);

-- Messages no single business can be named for: visible to none, until one of them writes to
-- that address on that channel and takes them.
CREATE TABLE unattributed (
    provider_id  TEXT PRIMARY KEY,        -- `twilio:SM…`: a redelivery is kept once
    address      TEXT NOT NULL,
    channel      TEXT NOT NULL,
    contact_kind TEXT NOT NULL,           -- phone | telegram
    body         TEXT NOT NULL,
    name         TEXT,
    at_ms        INTEGER NOT NULL
);
CREATE INDEX unattributed_by_address ON unattributed (address, channel);

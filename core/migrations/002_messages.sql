-- Schema 2: the message history of each client (quick messages from the card now; the server's
-- reminders and delivery statuses later). Projected from the `msg:` entries of client documents.

CREATE TABLE messages (
    id          BLOB PRIMARY KEY,
    client_rid  INTEGER NOT NULL,
    channel     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    staff_id    BLOB,
    device_id   BLOB,
    visit_id    BLOB,
    template_id BLOB,
    status      TEXT NOT NULL,
    status_at   INTEGER NOT NULL,
    detail      TEXT
) WITHOUT ROWID;
CREATE INDEX messages_by_client ON messages (client_rid, at);
CREATE INDEX messages_by_time ON messages (at);

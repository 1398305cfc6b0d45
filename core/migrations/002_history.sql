-- Schema 2: the message history of each client (quick messages from the card now; the server's
-- reminders and delivery statuses later), projected from the `msg:` entries of client documents;
-- and undo records of client merges.

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

-- Merges of two client cards that can still be undone: the two documents as they were before.
-- Local to this device, never synced; a merge can be undone only until its changes have left
-- the device (the sync client clears these rows before it pushes).
CREATE TABLE merge_undo (
    id          BLOB PRIMARY KEY,
    kept        BLOB NOT NULL,
    merged      BLOB NOT NULL,
    kept_data   BLOB NOT NULL,
    merged_data BLOB NOT NULL,
    at          INTEGER NOT NULL
);

-- Kartka sync server, SQLite, schema 3: the right to erasure.
--
-- An erased client's document row stays, as kind 'erased' with empty data, so that devices paging
-- through whole documents learn of the erasure; its feed rows are replaced by one empty row.
-- This table is the anonymous record that the erasure happened: which document (a random id),
-- when, and through which device. Nothing of the person.
CREATE TABLE erasures (
    business_id BLOB NOT NULL,
    doc_id      BLOB NOT NULL,
    erased_at   INTEGER NOT NULL,         -- Unix milliseconds
    by_device   BLOB NOT NULL,
    PRIMARY KEY (business_id, doc_id)
);

-- Kartka sync server, PostgreSQL, schema 3: the right to erasure (see the SQLite twin).
CREATE TABLE erasures (
    business_id UUID NOT NULL,
    doc_id      UUID NOT NULL,
    erased_at   BIGINT NOT NULL,
    by_device   UUID NOT NULL,
    PRIMARY KEY (business_id, doc_id)
);

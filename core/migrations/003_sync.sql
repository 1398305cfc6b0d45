-- Schema 3: what the sync client needs to know about each document.
--
-- `heads` are the document's current heads (32-byte hashes, concatenated), written with every
-- save so that finding what to send never has to load a document. `synced` are the heads the
-- server is known to hold (NULL: it holds nothing of this document yet), and `dirty` marks a
-- document with changes the server may lack. A document from before this schema is dirty with
-- unknown heads: the first sync sends it whole, which the server merges without duplicates.

ALTER TABLE docs ADD COLUMN heads BLOB;
ALTER TABLE docs ADD COLUMN synced BLOB;
ALTER TABLE docs ADD COLUMN dirty INTEGER NOT NULL DEFAULT 1;
CREATE INDEX docs_dirty ON docs (rid) WHERE dirty = 1;

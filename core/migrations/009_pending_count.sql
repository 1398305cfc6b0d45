-- The sync status reads how many records wait to be sent every time it is read or told (the
-- apps' status line, after every edit). Counting the partial index `docs_dirty` costs about
-- 7 µs per thousand waiting: 0.36 ms for a book of 50,000 not paired yet. A counter kept by
-- triggers makes it one row, however many wait.
CREATE TABLE docs_pending (n INTEGER NOT NULL);
INSERT INTO docs_pending (n) SELECT count(*) FROM docs WHERE dirty = 1;

CREATE TRIGGER docs_pending_insert AFTER INSERT ON docs WHEN NEW.dirty = 1
BEGIN
    UPDATE docs_pending SET n = n + 1;
END;

CREATE TRIGGER docs_pending_update AFTER UPDATE OF dirty ON docs
WHEN OLD.dirty IS NOT NEW.dirty
BEGIN
    UPDATE docs_pending SET n = n + (CASE WHEN NEW.dirty = 1 THEN 1 ELSE -1 END);
END;

CREATE TRIGGER docs_pending_delete AFTER DELETE ON docs WHEN OLD.dirty = 1
BEGIN
    UPDATE docs_pending SET n = n - 1;
END;

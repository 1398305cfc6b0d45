-- Schema 5: the business-wide message log. Each history entry may name the notification rule
-- that sent it (the server writes it), so the log filters by rule; the log reads newest first
-- across clients, filtered by status or channel, through these indexes.
ALTER TABLE messages ADD COLUMN rule_id BLOB;
CREATE INDEX messages_by_status ON messages (status, at);
CREATE INDEX messages_by_rule ON messages (rule_id, at) WHERE rule_id IS NOT NULL;

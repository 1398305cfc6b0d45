-- Schema 9: search by any digits of a number (issue 18: a master who remembers only the end of a
-- number, `12 34` of `067 555 12 34`, found nobody).
--
-- `phone_digits` holds every run of digits that starts inside a number: the tails of its keys,
-- three digits or more, that are not keys themselves (see `phone::inner_digits`), so a query
-- found anywhere in a number is a prefix range here, as a query found at its start is in
-- `phone_keys`. Both hold only clients in the book (not deleted, not leads), which every phone
-- lookup wants. `phone_keys` now carries the client's sort key, so that the numbers starting
-- with a query are put in name order from the index alone (`067` matches a twelfth of the
-- book); `phone_digits` does not (seven rows a number, and a name in each made it 30 MiB at
-- 50,000 clients): the widest inner query, three digits, matches ~0.7% of the numbers, few
-- enough to look up. The projection is rebuilt after an upgrade, which fills both.
DROP TABLE phone_keys;
CREATE TABLE phone_keys (
    key        TEXT NOT NULL,
    sort_key   TEXT NOT NULL,
    client_rid INTEGER NOT NULL,
    PRIMARY KEY (key, sort_key, client_rid)
) WITHOUT ROWID;
CREATE INDEX phone_keys_by_client ON phone_keys (client_rid);

CREATE TABLE phone_digits (
    digits     TEXT NOT NULL,
    client_rid INTEGER NOT NULL,
    PRIMARY KEY (digits, client_rid)
) WITHOUT ROWID;
CREATE INDEX phone_digits_by_client ON phone_digits (client_rid);

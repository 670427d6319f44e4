-- +goose Up
-- Messages sent through an API key are an integration's automated messages
-- (sender_type 'integration'): refused while a person owns the
-- conversation and never taking it over (promise P-24), sent without the
-- HUMAN_AGENT tag. The CHECK on messages.sender_type gains the value.
--
-- SQLite cannot alter a CHECK constraint, and rebuilding messages (the
-- largest table) would copy every row. Loosening a CHECK is one of the
-- changes https://www.sqlite.org/lang_altertable.html#otheralter allows by
-- editing the stored schema text: every existing row still satisfies it.
-- writable_schema=RESET turns editing off and reloads the schema on this
-- connection (the single writer), so the new value is accepted at once;
-- readers never insert. The replace touches only messages' CHECK list.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, '''broadcast'',''page'')', '''broadcast'',''page'',''integration'')')
 WHERE type = 'table' AND name = 'messages';
PRAGMA writable_schema = RESET;

-- +goose Down
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, '''broadcast'',''page'',''integration'')', '''broadcast'',''page'')')
 WHERE type = 'table' AND name = 'messages';
PRAGMA writable_schema = RESET;

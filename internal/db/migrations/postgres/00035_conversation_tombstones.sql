-- +goose Up
-- A deleted conversation gets a tombstone too (kind 'conversation'), so
-- restoring a backup from before the deletion deletes it again.
ALTER TABLE tombstones DROP CONSTRAINT tombstones_kind_check;
ALTER TABLE tombstones ADD CONSTRAINT tombstones_kind_check CHECK (kind IN ('contact','conversation','workspace'));

-- +goose Down
DELETE FROM tombstones WHERE kind = 'conversation';
ALTER TABLE tombstones DROP CONSTRAINT tombstones_kind_check;
ALTER TABLE tombstones ADD CONSTRAINT tombstones_kind_check CHECK (kind IN ('contact','workspace'));

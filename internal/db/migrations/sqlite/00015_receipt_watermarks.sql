-- +goose Up
-- The latest delivery and read watermarks of each conversation. A receipt
-- can arrive before Parley has stored that its message was sent (the Send
-- API's answer and the echo race the person's phone); the message then
-- takes the receipt's state as it becomes sent, instead of staying "sent"
-- for ever.
ALTER TABLE conversations ADD COLUMN delivered_upto TIMESTAMP;
ALTER TABLE conversations ADD COLUMN read_upto TIMESTAMP;

-- +goose Down
ALTER TABLE conversations DROP COLUMN read_upto;
ALTER TABLE conversations DROP COLUMN delivered_upto;

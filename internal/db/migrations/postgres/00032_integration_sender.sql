-- +goose Up
-- Messages sent through an API key are an integration's automated messages
-- (sender_type 'integration'): refused while a person owns the
-- conversation and never taking it over (promise P-24). The CHECK gains the
-- value; NOT VALID skips re-reading every row, which the looser check
-- cannot fail anyway.
ALTER TABLE messages DROP CONSTRAINT messages_sender_type_check;
ALTER TABLE messages ADD CONSTRAINT messages_sender_type_check
    CHECK (sender_type IN ('contact','flow','ai','agent','broadcast','page','integration')) NOT VALID;

-- +goose Down
ALTER TABLE messages DROP CONSTRAINT messages_sender_type_check;
ALTER TABLE messages ADD CONSTRAINT messages_sender_type_check
    CHECK (sender_type IN ('contact','flow','ai','agent','broadcast','page')) NOT VALID;

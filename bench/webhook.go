package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// messageBody is a Messenger webhook delivery carrying one text message
// from psid to pageID, shaped as Meta sends it (meta-platform.md §1.3,
// §2.2). It is built here rather than by the simulator so the ingest
// scenarios cost the generator as little as possible.
func messageBody(pageID, psid, mid, text string, at time.Time) []byte {
	ms := at.UnixMilli()
	type id struct {
		ID string `json:"id"`
	}
	type message struct {
		MID  string `json:"mid"`
		Text string `json:"text"`
	}
	type event struct {
		Sender    id      `json:"sender"`
		Recipient id      `json:"recipient"`
		Timestamp int64   `json:"timestamp"`
		Message   message `json:"message"`
	}
	type entry struct {
		ID        string  `json:"id"`
		Time      int64   `json:"time"`
		Messaging []event `json:"messaging"`
	}
	b, err := json.Marshal(struct {
		Object string  `json:"object"`
		Entry  []entry `json:"entry"`
	}{"page", []entry{{ID: pageID, Time: ms, Messaging: []event{{
		Sender: id{psid}, Recipient: id{pageID}, Timestamp: ms, Message: message{MID: mid, Text: text},
	}}}}})
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	return b
}

// sign is the X-Hub-Signature-256 value Meta sends: HMAC-SHA256 of the
// raw body under the app secret, in lowercase hex.
func sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

package messenger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/parleyhq/parley/internal/channel"
)

// Decoding bounds: a signed webhook comes from Meta, but its parser must
// stay bounded whatever the body holds (security.md §3.K).
const (
	// MaxDepth is the deepest JSON nesting accepted; real payloads nest
	// about 8 levels.
	MaxDepth = 64
	// MaxEvents is the most events taken from one body (Meta batches at
	// most 1000); the rest are counted in Batch.Skipped.
	MaxEvents = 10_000
)

// Batch is one webhook body, normalized.
type Batch struct {
	// Object is the payload's object ("page").
	Object string
	// Events are the events Parley understands, in payload order.
	Events []channel.Inbound
	// Skipped counts items that were ignored: unknown event types,
	// dashboard test notifications, feed changes, items that failed to
	// decode, and everything beyond MaxEvents.
	Skipped int
	// Accounts counts Events per AccountID (the routing key).
	Accounts map[string]int
}

// PayloadError means the body is not a Messenger webhook at all: not a JSON
// object, object is not "page", or nested beyond MaxDepth. The caller
// keeps it aside (quarantine) instead of retrying it.
type PayloadError struct {
	Reason string
}

func (e *PayloadError) Error() string { return "messenger: parse webhook: " + e.Reason }

// Parse decodes a webhook body of object "page" into events. It iterates
// every entry and every messaging and standby item (Meta batches them),
// routes each event by its Page (the recipient, or the sender for echoes),
// and skips what it does not understand rather than failing: Meta retries
// a refused body for hours, and unsubscribes the app after one.
func Parse(raw []byte) (Batch, error) {
	if err := checkDepth(raw, MaxDepth); err != nil {
		return Batch{}, err
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		// Either not an object or "entry" is not an array; tell them apart
		// so a page payload with an odd entry is skipped, not quarantined.
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return Batch{}, &PayloadError{Reason: "the body is not a JSON object"}
		}
		env = envelope{Object: obj["object"]}
		if err := checkObject(env.Object); err != nil {
			return Batch{}, err
		}
		return Batch{Object: "page", Skipped: 1, Accounts: map[string]int{}}, nil
	}
	if err := checkObject(env.Object); err != nil {
		return Batch{}, err
	}
	p := parser{b: Batch{Object: "page", Accounts: map[string]int{}}}
	for _, e := range env.Entry {
		p.entry(e)
	}
	return p.b, nil
}

func checkObject(o json.RawMessage) error {
	var s string
	if o == nil || json.Unmarshal(o, &s) != nil || s != "page" {
		return &PayloadError{Reason: `object is not "page"`}
	}
	return nil
}

// checkDepth refuses bodies nested deeper than max, before any decoding
// (encoding/json would recurse up to 10,000 levels). It also refuses what
// does not start as a JSON object.
func checkDepth(raw []byte, max int) error {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 || raw[0] != '{' {
		return &PayloadError{Reason: "the body is not a JSON object"}
	}
	depth, inString, escaped := 0, false, false
	for _, c := range raw {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return &PayloadError{Reason: fmt.Sprintf("JSON nested deeper than %d levels", max)}
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

type parser struct {
	b Batch
}

func (p *parser) entry(raw json.RawMessage) {
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		p.b.Skipped++
		return
	}
	// Dashboard test notifications carry entry id "0" and a changes[]
	// item; feed changes belong to other features. Neither is a message.
	p.b.Skipped += len(e.Changes)
	if e.ID == "0" {
		p.b.Skipped += len(e.Messaging) + len(e.Standby)
		return
	}
	at := entryTime(e.Time)
	for _, m := range e.Messaging {
		p.item(m, string(e.ID), at, false)
	}
	for _, m := range e.Standby {
		p.item(m, string(e.ID), at, true)
	}
}

func (p *parser) item(raw json.RawMessage, entryID string, entryAt time.Time, standby bool) {
	if len(p.b.Events) >= MaxEvents {
		p.b.Skipped++
		return
	}
	var it item
	if err := json.Unmarshal(raw, &it); err != nil {
		p.b.Skipped++
		return
	}
	ev, ok := convert(it, entryID, entryAt)
	if !ok || ev.AccountID == "" || (ev.UserID == "" && ev.Kind != channel.EventPolicy) {
		p.b.Skipped++
		return
	}
	ev.Standby = standby
	p.b.Events = append(p.b.Events, ev)
	p.b.Accounts[ev.AccountID]++
}

// convert turns one messaging item into an event; false for event types
// Parley does not handle (app_roles, game plays, account linking, edits,
// feedback...).
func convert(it item, entryID string, entryAt time.Time) (channel.Inbound, bool) {
	ev := channel.Inbound{Type: channel.Messenger, At: millis(it.Timestamp)}
	var sender, recipient string
	if it.Sender != nil {
		sender = string(it.Sender.ID)
	}
	if it.Recipient != nil {
		recipient = string(it.Recipient.ID)
	}
	// The Page is the recipient of what people do, the sender of echoes.
	ev.AccountID, ev.UserID = orEntry(recipient, entryID), sender
	if ev.At.IsZero() {
		ev.At = entryAt
	}
	switch {
	case it.Message != nil && it.Message.IsEcho:
		ev.Kind = channel.EventEcho
		ev.AccountID, ev.UserID = orEntry(sender, entryID), recipient
		fillMessage(&ev, it.Message)
		ev.AppID = string(it.Message.AppID)
		ev.Metadata = it.Message.Metadata
	case it.Message != nil && it.Message.IsDeleted:
		// The person unsent a message: the deleted message's ID goes in
		// MIDs (not MID, which would collide with the message's own
		// deduplication key).
		ev.Kind = channel.EventDeleted
		if it.Message.MID != "" {
			ev.MIDs = []string{it.Message.MID}
		}
		ev.Key = key(ev, it.Message.MID)
	case it.Message != nil:
		ev.Kind = channel.EventMessage
		fillMessage(&ev, it.Message)
		if ev.MID == "" {
			ev.Key = key(ev, ev.Content.Text, ev.Content.Payload)
		}
	case it.Postback != nil:
		ev.Kind = channel.EventPostback
		ev.MID = it.Postback.MID
		ev.Content.Postback = &channel.Postback{Title: it.Postback.Title, Payload: it.Postback.Payload}
		ev.Content.Referral = it.Postback.Referral.normalize()
		if ev.MID == "" {
			ev.Key = key(ev, it.Postback.Payload)
		}
	case it.Referral != nil:
		ev.Kind = channel.EventReferral
		r := it.Referral.normalize()
		ev.Content.Referral = r
		ev.Key = key(ev, r.Ref, r.Source, r.Type, r.AdID, r.OriginDomain)
	case it.Optin != nil:
		ev.Kind = channel.EventOptin
		ev.Content.OptinRef = it.Optin.Ref
		ev.Key = key(ev, it.Optin.Ref)
	case it.Reaction != nil:
		ev.Kind = channel.EventReaction
		r := it.Reaction
		ev.Content.Reaction = &channel.Reaction{Action: r.Action, Emoji: r.Emoji, Name: r.Reaction, MID: r.MID}
		ev.Key = key(ev, r.MID, r.Action, r.Emoji)
	case it.Delivery != nil:
		ev.Kind = channel.EventDelivery
		fillReceipt(&ev, it.Delivery)
	case it.Read != nil:
		ev.Kind = channel.EventRead
		fillReceipt(&ev, it.Read)
	case it.Pass != nil:
		ev.Kind = channel.EventHandover
		ev.Handover = &channel.Handover{Kind: channel.HandoverPass, NewOwnerAppID: string(it.Pass.NewOwnerAppID),
			PrevOwnerAppID: string(it.Pass.PreviousOwnerAppID), Metadata: it.Pass.Metadata}
	case it.Take != nil:
		ev.Kind = channel.EventHandover
		ev.Handover = &channel.Handover{Kind: channel.HandoverTake, NewOwnerAppID: string(it.Take.NewOwnerAppID),
			PrevOwnerAppID: string(it.Take.PreviousOwnerAppID), Metadata: it.Take.Metadata}
	case it.Request != nil:
		// The app asking for the thread is the would-be new owner.
		ev.Kind = channel.EventHandover
		ev.Handover = &channel.Handover{Kind: channel.HandoverRequest, NewOwnerAppID: string(it.Request.RequestedOwnerAppID),
			Metadata: it.Request.Metadata}
	case it.Policy != nil:
		// A Page-level notice: it names no person.
		ev.Kind = channel.EventPolicy
		ev.UserID = ""
		ev.Policy = &channel.PolicyNotice{Action: it.Policy.Action, Reason: it.Policy.Reason}
		ev.Key = key(ev, it.Policy.Action, it.Policy.Reason)
	default:
		return channel.Inbound{}, false
	}
	if h := ev.Handover; h != nil {
		ev.Key = key(ev, h.Kind, h.NewOwnerAppID, h.PrevOwnerAppID, h.Metadata)
	}
	if ev.At.IsZero() && !ev.Watermark.IsZero() {
		ev.At = ev.Watermark
	}
	return ev, true
}

func orEntry(id, entryID string) string {
	if id != "" {
		return id
	}
	return entryID
}

func fillMessage(ev *channel.Inbound, m *message) {
	ev.MID = m.MID
	ev.Content.Text = m.Text
	if m.QuickReply != nil {
		ev.Content.Payload = m.QuickReply.Payload
	}
	if m.ReplyTo != nil {
		ev.ReplyTo = m.ReplyTo.MID
	}
	ev.Content.StickerID = string(m.StickerID)
	ev.Content.Referral = m.Referral.normalize()
	for _, a := range m.Attachments {
		fillAttachment(&ev.Content, a)
	}
}

// fillAttachment maps one attachment. Types Parley has no name for (reels,
// posts, bookings, shares) become fallback links, so nothing is lost.
func fillAttachment(c *channel.Content, a attachment) {
	p := a.Payload
	if p == nil {
		p = &attachmentPayload{}
	}
	url, title := first(p.URL, a.URL), first(a.Title, p.Title)
	switch a.Type {
	case channel.AttachImage, channel.AttachVideo, channel.AttachAudio, channel.AttachFile:
		c.Attachments = append(c.Attachments, channel.Attachment{Type: a.Type, URL: url, Title: title})
		if c.StickerID == "" {
			c.StickerID = string(p.StickerID)
		}
	case channel.AttachLocation:
		at := channel.Attachment{Type: channel.AttachLocation, URL: url, Title: title}
		if p.Coordinates != nil {
			at.Latitude, at.Longitude = p.Coordinates.Lat, p.Coordinates.Long
		}
		c.Attachments = append(c.Attachments, at)
	case "template":
		// Echo of a template the Page sent.
		fillTemplate(c, p)
	default:
		c.Attachments = append(c.Attachments, channel.Attachment{Type: channel.AttachFallback, URL: url, Title: title})
	}
}

func fillTemplate(c *channel.Content, p *attachmentPayload) {
	if p.Text != "" && c.Text == "" {
		c.Text = p.Text
	}
	c.Buttons = append(c.Buttons, buttons(p.Buttons)...)
	for _, e := range p.Elements {
		card := channel.Card{Title: e.Title, Subtitle: e.Subtitle, ImageURL: e.ImageURL, Buttons: buttons(e.Buttons)}
		if e.DefaultAction != nil {
			card.URL = e.DefaultAction.URL
		}
		c.Cards = append(c.Cards, card)
	}
}

func buttons(bs []templateButton) []channel.Button {
	var out []channel.Button
	for _, b := range bs {
		out = append(out, channel.Button{Type: b.Type, Title: b.Title, Payload: b.Payload, URL: b.URL})
	}
	return out
}

func fillReceipt(ev *channel.Inbound, r *receipt) {
	ev.Watermark = millis(r.Watermark)
	ev.MIDs = r.MIDs
	if r.MID != "" {
		ev.MIDs = append(ev.MIDs, r.MID)
	}
}

func (r *referral) normalize() *channel.Referral {
	if r == nil {
		return nil
	}
	return &channel.Referral{Ref: r.Ref, Source: r.Source, Type: r.Type, AdID: string(r.AdID), OriginDomain: r.OriginDomain}
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// key identifies an event that has no message ID, so that Meta's
// redeliveries of it are recognized: the SHA-256 of its kind, Page,
// person, timestamp and identifying fields, each length-prefixed so no two
// different field lists hash alike. The timestamp is in the key because a
// person may repeat the same action later (react, unreact, react), while a
// redelivery repeats the timestamp too.
func key(ev channel.Inbound, fields ...string) string {
	h := sha256.New()
	all := append([]string{string(ev.Kind), ev.AccountID, ev.UserID, strconv.FormatInt(ev.At.UnixMilli(), 10)}, fields...)
	for _, f := range all {
		fmt.Fprintf(h, "%d:%s", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

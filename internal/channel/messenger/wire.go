package messenger

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The webhook payload as Meta sends it (meta-platform.md §1.3, §2.2). Each
// level is decoded separately (json.RawMessage below) so that one odd item
// is skipped instead of failing its whole batch.

type envelope struct {
	Object json.RawMessage   `json:"object"`
	Entry  []json.RawMessage `json:"entry"`
}

type entry struct {
	ID        flexID            `json:"id"`
	Time      flexInt           `json:"time"`
	Messaging []json.RawMessage `json:"messaging"`
	Standby   []json.RawMessage `json:"standby"`
	Changes   []json.RawMessage `json:"changes"`
}

type party struct {
	ID flexID `json:"id"`
}

type item struct {
	Sender    *party   `json:"sender"`
	Recipient *party   `json:"recipient"`
	Timestamp flexInt  `json:"timestamp"`
	Message   *message `json:"message"`
	Postback  *struct {
		Title    string    `json:"title"`
		Payload  string    `json:"payload"`
		MID      string    `json:"mid"`
		Referral *referral `json:"referral"`
	} `json:"postback"`
	Referral *referral `json:"referral"`
	Delivery *receipt  `json:"delivery"`
	Read     *receipt  `json:"read"`
	Optin    *struct {
		Ref string `json:"ref"`
	} `json:"optin"`
	Reaction *struct {
		Reaction string `json:"reaction"`
		Emoji    string `json:"emoji"`
		Action   string `json:"action"`
		MID      string `json:"mid"`
	} `json:"reaction"`
	Pass    *threadControl `json:"pass_thread_control"`
	Take    *threadControl `json:"take_thread_control"`
	Request *threadControl `json:"request_thread_control"`
	Policy  *struct {
		Action string `json:"action"`
		Reason string `json:"reason"`
	} `json:"policy-enforcement"`
}

type message struct {
	MID        string `json:"mid"`
	Text       string `json:"text"`
	IsEcho     bool   `json:"is_echo"`
	IsDeleted  bool   `json:"is_deleted"`
	AppID      flexID `json:"app_id"`
	Metadata   string `json:"metadata"`
	QuickReply *struct {
		Payload string `json:"payload"`
	} `json:"quick_reply"`
	ReplyTo *struct {
		MID string `json:"mid"`
	} `json:"reply_to"`
	StickerID   flexID       `json:"sticker_id"`
	Attachments []attachment `json:"attachments"`
	Referral    *referral    `json:"referral"`
}

type attachment struct {
	Type string `json:"type"`
	// Title and URL sit beside the payload on fallback (link share) and
	// old-style location attachments; the key is "URL" in real payloads
	// (encoding/json matches keys case-insensitively).
	Title   string             `json:"title"`
	URL     string             `json:"url"`
	Payload *attachmentPayload `json:"payload"`
}

type attachmentPayload struct {
	URL         string `json:"url"`
	Title       string `json:"title"`
	StickerID   flexID `json:"sticker_id"`
	Coordinates *struct {
		Lat  float64 `json:"lat"`
		Long float64 `json:"long"`
	} `json:"coordinates"`
	// Template echoes (a button or generic template the Page sent).
	TemplateType string           `json:"template_type"`
	Text         string           `json:"text"`
	Buttons      []templateButton `json:"buttons"`
	Elements     []struct {
		Title         string           `json:"title"`
		Subtitle      string           `json:"subtitle"`
		ImageURL      string           `json:"image_url"`
		DefaultAction *templateButton  `json:"default_action"`
		Buttons       []templateButton `json:"buttons"`
	} `json:"elements"`
}

type templateButton struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Payload string `json:"payload"`
	URL     string `json:"url"`
}

type referral struct {
	Ref          string `json:"ref"`
	Source       string `json:"source"`
	Type         string `json:"type"`
	AdID         flexID `json:"ad_id"`
	OriginDomain string `json:"origin_domain"`
}

type receipt struct {
	MIDs      []string `json:"mids"`
	MID       string   `json:"mid"`
	Watermark flexInt  `json:"watermark"`
}

type threadControl struct {
	NewOwnerAppID       flexID `json:"new_owner_app_id"`
	PreviousOwnerAppID  flexID `json:"previous_owner_app_id"`
	RequestedOwnerAppID flexID `json:"requested_owner_app_id"`
	Metadata            string `json:"metadata"`
}

var errBadID = errors.New("messenger: id is neither a string nor an integer")

// flexID is a Graph ID. Meta sends IDs as strings, but some (app_id in
// echoes, sticker_id, ad IDs in old payloads) as JSON numbers, which
// overflow float64 precision: the digits are kept as written.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(s)
	default:
		if len(b) == 0 || strings.TrimLeft(string(b), "0123456789") != "" {
			return errBadID
		}
		*f = flexID(b)
	}
	return nil
}

// flexInt is a millisecond timestamp or watermark, sent as a number or a
// string of digits (Chatwoot's fixtures carry "watermark":"1648581633369").
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(strings.TrimSpace(s))
	}
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		*f = flexInt(n)
		return nil
	}
	x, err := strconv.ParseFloat(string(b), 64)
	if err != nil || x != x || x > 1<<62 || x < -(1<<62) {
		return errors.New("messenger: timestamp is not a number")
	}
	*f = flexInt(int64(x))
	return nil
}

// millis turns Meta's millisecond timestamps into UTC times (zero stays
// zero).
func millis(ms flexInt) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(ms)).UTC()
}

// entryTime reads entry.time, which is in milliseconds on messaging
// entries but in seconds on dashboard test notifications.
func entryTime(t flexInt) time.Time {
	if t > 0 && t < 100_000_000_000 {
		return time.Unix(int64(t), 0).UTC()
	}
	return millis(t)
}

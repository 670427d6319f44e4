package channel

import "time"

// EventKind is what happened in an inbound platform event.
type EventKind string

// Inbound event kinds.
const (
	// EventMessage is a message from the person: text, quick-reply tap,
	// attachments, sticker; Content says which.
	EventMessage EventKind = "message"
	// EventPostback is a tapped button, Get Started or menu entry.
	EventPostback EventKind = "postback"
	// EventEcho is a message the Page sent: through Parley (AppID is ours),
	// another app, or a person in Meta's inbox.
	EventEcho EventKind = "echo"
	// EventDelivery says the person's device received our messages up to
	// Watermark (and MIDs when listed).
	EventDelivery EventKind = "delivery"
	// EventRead says the person read our messages up to Watermark.
	EventRead EventKind = "read"
	// EventReferral is an m.me link, ad or plugin opening an existing thread.
	EventReferral EventKind = "referral"
	// EventOptin is a plugin opt-in.
	EventOptin EventKind = "optin"
	// EventReaction is an emoji reaction to a message, or its removal.
	EventReaction EventKind = "reaction"
	// EventHandover is a thread-control change (pass, take, request).
	EventHandover EventKind = "handover"
	// EventPolicy is a policy enforcement notice (the Page was blocked or
	// unblocked from messaging). It concerns the whole account: UserID is
	// empty.
	EventPolicy EventKind = "policy"
	// EventDeleted says the person unsent a message; MIDs holds the
	// platform ID of the message removed (MID stays empty so it does not
	// collide with the message's own deduplication).
	EventDeleted EventKind = "deleted"
)

// Inbound is one platform event, normalized. Adapters produce these from
// webhook payloads; inbox applies them.
type Inbound struct {
	Type Type
	Kind EventKind
	// AccountID is the connected account the event belongs to (the Page ID):
	// the routing key. For echoes it is the sender; otherwise the recipient.
	AccountID string
	// UserID is the person's platform-scoped ID (PSID); empty only for
	// account-level events (EventPolicy).
	UserID string
	// At is when the platform says the event happened.
	At time.Time
	// MID is the platform message ID, when the event has one.
	MID string
	// ReplyTo is the platform ID of the message this one quotes.
	ReplyTo string
	// Content is what the person (or, for echoes, the Page) said.
	Content Content
	// Watermark and MIDs describe deliveries and reads: every message sent
	// before Watermark is delivered (or read).
	Watermark time.Time
	MIDs      []string
	// AppID is the app that sent an echo ("" when a person used Meta's
	// inbox); Metadata is what the sender attached (Parley puts its message
	// ID there).
	AppID    string
	Metadata string
	// Handover describes a thread-control change.
	Handover *Handover
	// Policy describes a policy enforcement notice.
	Policy *PolicyNotice
	// Standby is true for events delivered while another app owns the
	// thread: stored, never answered.
	Standby bool
	// Key identifies the event for deduplication when it has no MID (a
	// hash of its identifying fields); "" when MID suffices or the event is
	// idempotent by nature (deliveries, reads).
	Key string
}

// Handover kinds.
const (
	HandoverPass    = "pass"
	HandoverTake    = "take"
	HandoverRequest = "request"
)

// Handover is a thread-control change between apps.
type Handover struct {
	Kind           string `json:"kind"` // pass, take or request
	NewOwnerAppID  string `json:"new_owner_app_id,omitempty"`
	PrevOwnerAppID string `json:"previous_owner_app_id,omitempty"`
	Metadata       string `json:"metadata,omitempty"`
}

// PolicyNotice is a messaging policy enforcement notice.
type PolicyNotice struct {
	Action string `json:"action"` // block or unblock
	Reason string `json:"reason,omitempty"`
}

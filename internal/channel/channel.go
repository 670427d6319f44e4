package channel

import (
	"time"
)

// Type names a messaging platform.
type Type string

// The platforms Parley connects.
const (
	Messenger Type = "messenger"
)

// Status is whether a channel is connected.
type Status string

// Channel statuses.
const (
	Active       Status = "active"
	Disconnected Status = "disconnected"
)

// TokenState says whether the platform still accepts the channel's token.
type TokenState string

// Token states. A token the platform rejected (Graph error 190) stays
// NeedsReconnect until someone connects the account again; nothing is sent
// meanwhile.
const (
	TokenOK             TokenState = "ok"
	TokenNeedsReconnect TokenState = "needs_reconnect"
)

// Channel is one connected account: for Messenger, a Facebook Page.
type Channel struct {
	ID          string
	WorkspaceID string
	Type        Type
	// ExternalID is the platform's ID of the account (the Page ID); webhook
	// events are routed by it.
	ExternalID string
	Name       string
	TokenState TokenState
	Status     Status
	// AutoReply is a fixed text sent to every inbound message while the
	// conversation is bot-owned and no flow answers it; "" means none.
	AutoReply string
	// Settings are the account's profile settings pushed to the platform.
	Settings Settings
	// LastEventAt is when the last webhook event was routed here (zero if
	// never); LastError and LastErrorAt describe the last platform error.
	LastEventAt time.Time
	LastError   string
	LastErrorAt time.Time
	// ConnectedBy is the user who connected it ("" for an API key).
	ConnectedBy    string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DisconnectedAt time.Time
}

// Settings are a Messenger Page's profile settings (the Messenger Profile
// API): what a person sees before and around the conversation.
type Settings struct {
	// GetStarted is the payload of the Get Started button ("" = no button).
	GetStarted string `json:"get_started,omitempty"`
	// Greeting is the text shown before the first message ("" = none). It
	// may use {{user_first_name}}, {{user_last_name}}, {{user_full_name}}.
	Greeting string `json:"greeting,omitempty"`
	// Menu is the persistent menu (needs GetStarted).
	Menu []MenuItem `json:"menu,omitempty"`
	// IceBreakers are questions offered to a person who has not written yet.
	IceBreakers []IceBreaker `json:"ice_breakers,omitempty"`
}

// MenuItem is one persistent-menu entry: a postback or a link.
type MenuItem struct {
	Title   string `json:"title"`
	Payload string `json:"payload,omitempty"` // postback payload
	URL     string `json:"url,omitempty"`     // web link instead of a payload
}

// IceBreaker is a suggested first question and the payload it sends.
type IceBreaker struct {
	Question string `json:"question"`
	Payload  string `json:"payload"`
}

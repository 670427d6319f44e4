package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/keyring"
)

// Owner is who answers a conversation.
type Owner string

// Conversation owners.
const (
	OwnerBot    Owner = "bot"    // flows and automatic replies
	OwnerAI     Owner = "ai"     // the AI agent
	OwnerHuman  Owner = "human"  // a team member; automation stays quiet
	OwnerNobody Owner = "nobody" // nobody answers
)

func (o Owner) valid() bool {
	return o == OwnerBot || o == OwnerAI || o == OwnerHuman || o == OwnerNobody
}

// automated reports whether the Responder answers for this owner.
func (o Owner) automated() bool { return o == OwnerBot || o == OwnerAI }

// Status is whether a conversation needs attention.
type Status string

// Conversation statuses (Chatwoot's): open needs a person, pending is
// being handled by the bot or the AI agent, snoozed waits until
// Conversation.SnoozedUntil, resolved is done. A message from the person
// reopens a resolved conversation and wakes a snoozed one (status.go).
const (
	StatusOpen     Status = "open"
	StatusPending  Status = "pending"
	StatusSnoozed  Status = "snoozed"
	StatusResolved Status = "resolved"
)

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool {
	return s == StatusOpen || s == StatusPending || s == StatusSnoozed || s == StatusResolved
}

// SenderType is who produced a message.
type SenderType string

// Sender types (column messages.sender_type).
const (
	SenderContact   SenderType = "contact"   // the person
	SenderFlow      SenderType = "flow"      // a flow or the automatic reply
	SenderAI        SenderType = "ai"        // the AI agent
	SenderAgent     SenderType = "agent"     // a team member, through Parley
	SenderBroadcast SenderType = "broadcast" // a broadcast or sequence
	SenderPage      SenderType = "page"      // the Page outside Parley (Meta's inbox, another app)
	// SenderIntegration is an API client acting with an API key: automated
	// like a flow (refused while a person owns the conversation, never
	// taking it over, no HUMAN_AGENT tag), since a key is not a person.
	SenderIntegration SenderType = "integration"
)

// canSend reports whether Reply accepts t as an author.
func (t SenderType) canSend() bool {
	return t == SenderAgent || t == SenderFlow || t == SenderAI || t == SenderBroadcast || t == SenderIntegration
}

// Direction is which way a message went.
type Direction string

// Directions.
const (
	In  Direction = "in"  // from the person
	Out Direction = "out" // to the person
)

// MessageStatus is where a message is in its life. Outgoing messages move
// queued → sending → sent → delivered → read, or end failed; inbound ones
// are received.
type MessageStatus string

// Message statuses.
const (
	StatusReceived  MessageStatus = "received"
	StatusQueued    MessageStatus = "queued"
	StatusSending   MessageStatus = "sending"
	StatusSent      MessageStatus = "sent"
	StatusDelivered MessageStatus = "delivered"
	StatusRead      MessageStatus = "read"
	StatusFailed    MessageStatus = "failed"
)

// Error codes of failed messages (Message.ErrorCode), besides the policy
// reasons of channel.Decision (window_closed, unreachable, …) and the
// kinds of channel.SendError (invalid, permission, token_invalid).
const (
	// CodeNeedsReconnect: the channel has no usable token.
	CodeNeedsReconnect = "needs_reconnect"
	// CodeUnknownOutcome: the platform may or may not have delivered the
	// message (no answer, no echo); it is not sent again.
	CodeUnknownOutcome = "unknown_outcome"
	// CodeSendFailed: transient failures outlasted every retry.
	CodeSendFailed = "send_failed"
	// CodeUnsupported: no sender is configured for the channel type.
	CodeUnsupported = "unsupported"
	// CodeHumanOwned: an automated message waited in the queue while a
	// person took the conversation over; it was not sent (P-24).
	CodeHumanOwned = "human_owned"
	// CodeRestricted: an automated message waited in the queue while the
	// contact's privacy settings came to stop automation (restricted,
	// objecting, consent withdrawn, a minor); it was not sent (P-34,
	// P-40).
	CodeRestricted = "contact_restricted"
)

// Conversation is the thread between a channel and one contact.
type Conversation struct {
	ID          string
	WorkspaceID string
	ChannelID   string
	ContactID   string
	Status      Status
	Owner       Owner
	// AssigneeID is the member answering it ("" for none).
	AssigneeID string
	// TeamID is the team answering it ("" for none).
	TeamID string
	// SnoozedUntil is when a snoozed conversation wakes (zero unless
	// snoozed).
	SnoozedUntil time.Time
	// AgentLastSeenAt is when an agent last opened it (MarkSeen).
	AgentLastSeenAt time.Time
	// HumanAt is a person's last message (through Parley or the Page
	// inbox): the silence timer of "return to bot" counts from it.
	HumanAt        time.Time
	LastActivityAt time.Time
	// LastInboundAt is the person's last message, tap, referral or
	// reaction: it opens the messaging window (zero: never).
	LastInboundAt time.Time
	// InteractionCount counts the person's messages, quick replies and
	// postbacks.
	InteractionCount int
	// UnreachableAt is when the platform said the person cannot be
	// reached (zero: reachable).
	UnreachableAt time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Unread reports whether the person wrote since an agent last opened the
// conversation.
func (c Conversation) Unread() bool {
	return !c.LastInboundAt.IsZero() && c.LastInboundAt.After(c.AgentLastSeenAt)
}

// Message is one message in either direction, its body opened.
type Message struct {
	ID             string
	WorkspaceID    string
	ChannelID      string
	ConversationID string
	ContactID      string
	Direction      Direction
	// Kind is Content.Kind() when stored: text, attachment, postback, …
	Kind    string
	Content channel.Content
	// Deleted is true when the person unsent the message: its content is
	// gone and Content is empty.
	Deleted    bool
	SenderType SenderType
	// SenderID is the agent's user ID, the flow's or broadcast's ID.
	SenderID string
	// ExternalID is the platform's message ID once known; ReplyTo the
	// platform ID of the message this one quotes.
	ExternalID string
	ReplyTo    string
	Status     MessageStatus
	// MessagingType and Tag are how it was (or will be) sent.
	MessagingType string
	Tag           string
	// ErrorCode and ErrorMessage say why it failed (ErrorMessage is safe to
	// show; it may also describe the last transient failure of a message
	// still queued for a retry).
	ErrorCode    string
	ErrorMessage string
	PlatformAt   time.Time
	SentAt       time.Time
	DeliveredAt  time.Time
	ReadAt       time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Summary is a conversation as a list shows it.
type Summary struct {
	Conversation
	// ContactName is the person's name as the platform gave it ("" when it
	// shared none).
	ContactName string
	// LastMessage is the newest message, opened (nil for none).
	LastMessage *Message
	// Unanswered is true when the newest message is the person's.
	Unanswered bool
}

const convCols = `id, workspace_id, channel_id, contact_id, status, owner, assignee_id, last_activity_at, last_inbound_at,
	interaction_count, unreachable_at, created_at, updated_at, team_id, snoozed_until, agent_last_seen_at, human_at`

type convRow struct {
	ID               string     `bun:"id"`
	WorkspaceID      string     `bun:"workspace_id"`
	ChannelID        string     `bun:"channel_id"`
	ContactID        string     `bun:"contact_id"`
	Status           string     `bun:"status"`
	Owner            string     `bun:"owner"`
	AssigneeID       *string    `bun:"assignee_id"`
	LastActivityAt   time.Time  `bun:"last_activity_at"`
	LastInboundAt    *time.Time `bun:"last_inbound_at"`
	InteractionCount int        `bun:"interaction_count"`
	UnreachableAt    *time.Time `bun:"unreachable_at"`
	CreatedAt        time.Time  `bun:"created_at"`
	UpdatedAt        time.Time  `bun:"updated_at"`
	TeamID           *string    `bun:"team_id"`
	SnoozedUntil     *time.Time `bun:"snoozed_until"`
	AgentLastSeenAt  *time.Time `bun:"agent_last_seen_at"`
	HumanAt          *time.Time `bun:"human_at"`
}

// dest lists r's fields in the order of convCols, for Scan.
func (r *convRow) dest() []any {
	return []any{&r.ID, &r.WorkspaceID, &r.ChannelID, &r.ContactID, &r.Status, &r.Owner, &r.AssigneeID, &r.LastActivityAt,
		&r.LastInboundAt, &r.InteractionCount, &r.UnreachableAt, &r.CreatedAt, &r.UpdatedAt, &r.TeamID, &r.SnoozedUntil,
		&r.AgentLastSeenAt, &r.HumanAt}
}

func (r *convRow) conversation() Conversation {
	return Conversation{
		ID: r.ID, WorkspaceID: r.WorkspaceID, ChannelID: r.ChannelID, ContactID: r.ContactID,
		Status: Status(r.Status), Owner: Owner(r.Owner), AssigneeID: str(r.AssigneeID),
		LastActivityAt: r.LastActivityAt.UTC(), LastInboundAt: tm(r.LastInboundAt), InteractionCount: r.InteractionCount,
		UnreachableAt: tm(r.UnreachableAt), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		TeamID: str(r.TeamID), SnoozedUntil: tm(r.SnoozedUntil), AgentLastSeenAt: tm(r.AgentLastSeenAt), HumanAt: tm(r.HumanAt),
	}
}

const msgCols = `id, workspace_id, channel_id, conversation_id, contact_id, direction, kind, body, sender_type, sender_id,
	external_id, reply_to, status, messaging_type, tag, error_code, error_message, platform_at, sent_at, delivered_at,
	read_at, created_at, updated_at`

type msgRow struct {
	ID             string     `bun:"id"`
	WorkspaceID    string     `bun:"workspace_id"`
	ChannelID      string     `bun:"channel_id"`
	ConversationID string     `bun:"conversation_id"`
	ContactID      string     `bun:"contact_id"`
	Direction      string     `bun:"direction"`
	Kind           string     `bun:"kind"`
	Body           []byte     `bun:"body"`
	SenderType     string     `bun:"sender_type"`
	SenderID       *string    `bun:"sender_id"`
	ExternalID     *string    `bun:"external_id"`
	ReplyTo        *string    `bun:"reply_to"`
	Status         string     `bun:"status"`
	MessagingType  string     `bun:"messaging_type"`
	Tag            string     `bun:"tag"`
	ErrorCode      string     `bun:"error_code"`
	ErrorMessage   string     `bun:"error_message"`
	PlatformAt     *time.Time `bun:"platform_at"`
	SentAt         *time.Time `bun:"sent_at"`
	DeliveredAt    *time.Time `bun:"delivered_at"`
	ReadAt         *time.Time `bun:"read_at"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

// dest lists r's fields in the order of msgCols, for Scan.
func (r *msgRow) dest() []any {
	return []any{&r.ID, &r.WorkspaceID, &r.ChannelID, &r.ConversationID, &r.ContactID, &r.Direction, &r.Kind, &r.Body,
		&r.SenderType, &r.SenderID, &r.ExternalID, &r.ReplyTo, &r.Status, &r.MessagingType, &r.Tag, &r.ErrorCode,
		&r.ErrorMessage, &r.PlatformAt, &r.SentAt, &r.DeliveredAt, &r.ReadAt, &r.CreatedAt, &r.UpdatedAt}
}

// message returns r without its body.
func (r *msgRow) message() Message {
	return Message{
		ID: r.ID, WorkspaceID: r.WorkspaceID, ChannelID: r.ChannelID, ConversationID: r.ConversationID, ContactID: r.ContactID,
		Direction: Direction(r.Direction), Kind: r.Kind, SenderType: SenderType(r.SenderType), SenderID: str(r.SenderID),
		ExternalID: str(r.ExternalID), ReplyTo: str(r.ReplyTo), Status: MessageStatus(r.Status),
		MessagingType: r.MessagingType, Tag: r.Tag, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage,
		PlatformAt: tm(r.PlatformAt), SentAt: tm(r.SentAt), DeliveredAt: tm(r.DeliveredAt), ReadAt: tm(r.ReadAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// body is what a sealed message body holds: the content, or the mark of
// a message the person unsent.
type body struct {
	channel.Content
	Deleted bool `json:"deleted,omitempty"`
}

func bodyAAD(workspaceID, messageID string) keyring.AAD {
	return keyring.AAD{Workspace: workspaceID, Table: "messages", Column: "body", Row: messageID}
}

// seal seals b as the body of message id of contactID, through idb.
func (s *Service) seal(ctx context.Context, idb bun.IDB, workspaceID, contactID, id string, b body) ([]byte, error) {
	pt, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode body: %w", err)
	}
	return s.kr.SealContactTx(ctx, idb, bodyAAD(workspaceID, id), contactID, pt)
}

// open returns r with its body opened (outside any transaction: keys come
// from the keyring's cache). A body whose contact key was destroyed (the
// person was erased a moment ago) opens as empty.
func (s *Service) open(ctx context.Context, r *msgRow) (Message, error) {
	m := r.message()
	pt, err := s.kr.OpenContact(ctx, bodyAAD(r.WorkspaceID, r.ID), r.ContactID, r.Body)
	if errors.Is(err, keyring.ErrKeyDestroyed) {
		return m, nil
	}
	if err != nil {
		return Message{}, err
	}
	var b body
	if err := json.Unmarshal(pt, &b); err != nil {
		return Message{}, fmt.Errorf("decode body of message %s: %w", r.ID, err)
	}
	m.Content, m.Deleted = b.Content, b.Deleted
	return m, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func tm(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

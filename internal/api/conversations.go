package api

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
)

// conversationJSON is a conversation with a summary of its contact: its
// status (open, pending, snoozed until snoozed_until, resolved), its owner
// (bot, ai, human, nobody: while human, automation stays silent), its
// assignee and team, and whether the person wrote since a member last
// marked it seen (unread). reply_policy (detail only) says whether a
// person may reply now, and why not, the way the reply endpoint will
// decide.
type conversationJSON struct {
	ID               string           `json:"id"`
	ChannelID        string           `json:"channel_id"`
	Status           string           `json:"status"`
	Owner            string           `json:"owner"`
	AssigneeID       *string          `json:"assignee_id"`
	TeamID           *string          `json:"team_id"`
	SnoozedUntil     *time.Time       `json:"snoozed_until"`
	Unread           bool             `json:"unread"`
	AgentLastSeenAt  *time.Time       `json:"agent_last_seen_at"`
	Contact          contactSummary   `json:"contact"`
	LastActivityAt   time.Time        `json:"last_activity_at"`
	LastInboundAt    *time.Time       `json:"last_inbound_at"`
	InteractionCount int              `json:"interaction_count"`
	UnreachableAt    *time.Time       `json:"unreachable_at"`
	CreatedAt        time.Time        `json:"created_at"`
	LastMessage      *messageJSON     `json:"last_message,omitempty"`
	Unanswered       *bool            `json:"unanswered,omitempty"`
	ReplyPolicy      *replyPolicyJSON `json:"reply_policy,omitempty"`
}

// contactSummary is the contact as a conversation shows it; name is ""
// when the platform shared none.
type contactSummary struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// replyPolicyJSON is channel.Decide for a person replying now.
type replyPolicyJSON struct {
	Allowed      bool       `json:"allowed"`
	Reason       string     `json:"reason,omitempty"`
	Explanation  string     `json:"explanation"`
	WindowEndsAt *time.Time `json:"window_ends_at"`
}

func toConversationJSON(c inbox.Conversation, contactName string) conversationJSON {
	out := conversationJSON{
		ID: c.ID, ChannelID: c.ChannelID, Status: string(c.Status), Owner: string(c.Owner),
		Contact:        contactSummary{ID: c.ContactID, Name: contactName},
		LastActivityAt: c.LastActivityAt, LastInboundAt: timePtr(c.LastInboundAt),
		InteractionCount: c.InteractionCount, UnreachableAt: timePtr(c.UnreachableAt), CreatedAt: c.CreatedAt,
		SnoozedUntil: timePtr(c.SnoozedUntil), Unread: c.Unread(), AgentLastSeenAt: timePtr(c.AgentLastSeenAt),
	}
	if c.AssigneeID != "" {
		out.AssigneeID = &c.AssigneeID
	}
	if c.TeamID != "" {
		out.TeamID = &c.TeamID
	}
	return out
}

// messageJSON is one message in either direction. content is the
// normalized channel.Content; sender_id is the agent's user ID (or API
// key ID), flow or broadcast.
type messageJSON struct {
	ID             string          `json:"id"`
	ConversationID string          `json:"conversation_id"`
	Direction      string          `json:"direction"`
	Kind           string          `json:"kind"`
	Content        channel.Content `json:"content"`
	Deleted        bool            `json:"deleted"`
	SenderType     string          `json:"sender_type"`
	SenderID       string          `json:"sender_id,omitempty"`
	Status         string          `json:"status"`
	Error          *messageError   `json:"error"`
	MessagingType  string          `json:"messaging_type,omitempty"`
	Tag            string          `json:"tag,omitempty"`
	ReplyTo        string          `json:"reply_to,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	SentAt         *time.Time      `json:"sent_at"`
	DeliveredAt    *time.Time      `json:"delivered_at"`
	ReadAt         *time.Time      `json:"read_at"`
}

// messageError says why a message failed (or, while it is still queued,
// what went wrong with the last attempt).
type messageError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func toMessageJSON(m inbox.Message) messageJSON {
	out := messageJSON{
		ID: m.ID, ConversationID: m.ConversationID, Direction: string(m.Direction), Kind: m.Kind, Content: m.Content,
		Deleted: m.Deleted, SenderType: string(m.SenderType), SenderID: m.SenderID, Status: string(m.Status),
		MessagingType: m.MessagingType, Tag: m.Tag, ReplyTo: m.ReplyTo, CreatedAt: m.CreatedAt,
		SentAt: timePtr(m.SentAt), DeliveredAt: timePtr(m.DeliveredAt), ReadAt: timePtr(m.ReadAt),
	}
	if m.ErrorCode != "" || m.ErrorMessage != "" {
		out.Error = &messageError{Code: m.ErrorCode, Message: m.ErrorMessage}
	}
	return out
}

func toMessagesJSON(ms []inbox.Message) []messageJSON {
	out := make([]messageJSON, len(ms))
	for i, m := range ms {
		out[i] = toMessageJSON(m)
	}
	return out
}

// pageLimit reads ?limit= (1 to 100, default 50).
func pageLimit(r *http.Request) (int, error) {
	l := r.URL.Query().Get("limit")
	if l == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 || n > 100 {
		return 0, &httpx.Error{Status: http.StatusBadRequest, Code: "invalid_limit", Field: "limit", Message: "limit must be a whole number from 1 to 100."}
	}
	return n, nil
}

// listConversations lists the workspace's conversations, most recently
// active first, filtered by the query (listOptions). next_cursor continues
// the list ("" on the last page); next_before repeats it for clients of
// the first version of this endpoint, which paged with ?before=.
func (a *API) listConversations(w http.ResponseWriter, r *http.Request) error {
	opt, err := listOptions(r)
	if err != nil {
		return err
	}
	page, err := a.Inbox.List(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, opt)
	if errors.Is(err, inbox.ErrInvalid) {
		return badField("cursor", "cursor must be the next_cursor of the previous page.")
	}
	if err != nil {
		return httpx.Internal(err)
	}
	list := page.Conversations
	out := make([]conversationJSON, len(list))
	for i, s := range list {
		out[i] = toConversationJSON(s.Conversation, s.ContactName)
		if s.LastMessage != nil {
			m := toMessageJSON(*s.LastMessage)
			out[i].LastMessage = &m
		}
		unanswered := s.Unanswered
		out[i].Unanswered = &unanswered
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"conversations": out, "next_cursor": page.NextCursor, "next_before": page.NextCursor})
}

// listOptions reads the list's filters from the query: status (repeated or
// comma-separated: any of them), assignee (me, none or a member's user ID),
// team_id, channel_id, tag_id, unread=true, limit and cursor (before is its
// old name). Filters naming another workspace's objects match nothing: the
// list is always the caller's workspace's.
func listOptions(r *http.Request) (inbox.ListOptions, error) {
	n, err := pageLimit(r)
	if err != nil {
		return inbox.ListOptions{}, err
	}
	q := r.URL.Query()
	opt := inbox.ListOptions{Limit: n, TeamID: q.Get("team_id"), ChannelID: q.Get("channel_id"), TagID: q.Get("tag_id"),
		Cursor: q.Get("cursor")}
	if opt.Cursor == "" {
		opt.Cursor = q.Get("before")
	}
	for _, v := range q["status"] {
		for _, st := range strings.Split(v, ",") {
			st := inbox.Status(strings.TrimSpace(st))
			if st == "" || slices.Contains(opt.Status, st) {
				continue
			}
			if !st.Valid() {
				return opt, badField("status", `status must be "open", "pending", "snoozed" or "resolved" (several: status=open,pending).`)
			}
			opt.Status = append(opt.Status, st)
		}
	}
	switch q.Get("unread") {
	case "", "false":
	case "true":
		opt.Unread = true
	default:
		return opt, badField("unread", `unread must be "true" or "false".`)
	}
	switch as := q.Get("assignee"); as {
	case "":
	case "me":
		p := access.PrincipalFrom(r.Context())
		if p == nil || p.User == nil {
			return opt, &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "assignee_me_needs_user", Field: "assignee",
				Message: `assignee=me means the signed-in member; an API key is nobody. Pass the member's user ID instead.`}
		}
		opt.Assignee = p.User.ID
	case inbox.Unassigned:
		opt.Assignee = inbox.Unassigned
	default:
		opt.Assignee = as
	}
	return opt, nil
}

// getConversation returns the conversation with its contact's name and
// whether a person may reply now.
func (a *API) getConversation(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	c, err := a.Inbox.Conversation(r.Context(), ws, r.PathValue("conversation_id"))
	if err != nil {
		return conversationError(err)
	}
	ct, err := a.Contacts.Get(r.Context(), ws, c.ContactID)
	if err != nil {
		return httpx.Internal(err)
	}
	ch, err := a.Channels.Get(r.Context(), ws, c.ChannelID)
	if err != nil {
		return httpx.Internal(err)
	}
	out := toConversationJSON(c, ct.DisplayName())
	d := a.Inbox.AgentPolicy(ch, c, ct.DisplayName())
	out.ReplyPolicy = &replyPolicyJSON{Allowed: d.Allowed, Reason: d.Reason, Explanation: d.Explanation, WindowEndsAt: timePtr(d.WindowEnds)}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

// listMessages returns a page of the conversation's messages, newest
// first; next_before continues with older ones.
func (a *API) listMessages(w http.ResponseWriter, r *http.Request) error {
	n, err := pageLimit(r)
	if err != nil {
		return err
	}
	ms, err := a.Inbox.Messages(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, r.PathValue("conversation_id"), n, r.URL.Query().Get("before"))
	if err != nil {
		return conversationError(err)
	}
	next := ""
	if len(ms) == n {
		next = ms[len(ms)-1].ID
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"messages": toMessagesJSON(ms), "next_before": next})
}

type replyRequest struct {
	Text string `json:"text"`
}

// reply sends an agent's text through the messaging policy (promise P-16).
// A refusal is a 422 whose code is the policy's reason and whose message
// says, in plain words, why and until when.
func (a *API) reply(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	id := r.PathValue("conversation_id")
	// Another workspace's conversation is a 404 whatever the body says.
	if _, err := a.Inbox.Conversation(r.Context(), ws, id); err != nil {
		return conversationError(err)
	}
	var in replyRequest
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	author := inbox.Author{Type: inbox.SenderAgent, Actor: access.Actor(r)}
	if p := access.PrincipalFrom(r.Context()); p.User != nil {
		author.ID = p.User.ID
	} else if p.APIKey != nil {
		// A key is not a person: its messages are an integration's,
		// automated (P-24: refused while a person owns the conversation,
		// never taking it over; no HUMAN_AGENT tag).
		author = inbox.Author{Type: inbox.SenderIntegration, ID: p.APIKey.ID, Actor: access.Actor(r)}
	}
	ms, err := a.Inbox.Reply(r.Context(), author, ws, id, channel.Content{Text: in.Text})
	var ce *channel.ContentError
	if errors.As(err, &ce) && ce.Field == "content" {
		// "The message is empty": the one field this endpoint takes is text.
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_content", Field: "text", Message: ce.Message}
	}
	if err != nil {
		return conversationError(err)
	}
	return httpx.WriteJSON(w, http.StatusCreated, map[string]any{"messages": toMessagesJSON(ms)})
}

// conversationError maps what the inbox refuses: the messaging policy
// (422, code = the reason), content that cannot be sent (422 naming the
// field), an automated sender while a person owns the conversation (409
// human_owned), and conversations that are not the workspace's (404).
func conversationError(err error) error {
	var (
		pe *inbox.PolicyError
		ce *channel.ContentError
	)
	switch {
	case errors.As(err, &pe):
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: pe.Decision.Reason, Message: pe.Decision.Explanation}
	case errors.As(err, &ce):
		return &httpx.Error{Status: http.StatusBadRequest, Code: "invalid_content", Field: ce.Field, Message: ce.Message}
	case errors.Is(err, inbox.ErrHumanOwned):
		// Automation refused while a person owns the conversation.
		return httpx.Conflict("human_owned", "A person owns this conversation, so automated messages are paused. Return it to the bot first.")
	case errors.Is(err, inbox.ErrRestricted):
		// Automation refused by the contact's data-subject rights (P-34, P-40).
		return httpx.Conflict("contact_restricted", "This contact's privacy settings (restriction, objection, withdrawn consent or minor) stop automated messages. A person on the team can still reply.")
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("conversation")
	case errors.Is(err, inbox.ErrInvalid):
		return httpx.BadRequest("invalid_request", "The request is not valid.")
	}
	return httpx.Internal(err)
}

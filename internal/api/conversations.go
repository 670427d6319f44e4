package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
)

// conversationJSON is a conversation with a summary of its contact.
// reply_policy (detail only) says whether a person may reply now, and why
// not, the way the reply endpoint will decide.
type conversationJSON struct {
	ID               string           `json:"id"`
	ChannelID        string           `json:"channel_id"`
	Status           string           `json:"status"`
	Owner            string           `json:"owner"`
	AssigneeID       *string          `json:"assignee_id"`
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
	}
	if c.AssigneeID != "" {
		out.AssigneeID = &c.AssigneeID
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
// active first. next_before continues the list when the page was full.
func (a *API) listConversations(w http.ResponseWriter, r *http.Request) error {
	n, err := pageLimit(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	opt := inbox.ListOptions{Status: inbox.Status(q.Get("status")), ChannelID: q.Get("channel_id"), Limit: n, Before: q.Get("before")}
	if opt.Status != "" && opt.Status != inbox.StatusOpen && opt.Status != inbox.StatusClosed {
		return badField("status", `status must be "open" or "closed".`)
	}
	list, err := a.Inbox.Conversations(r.Context(), access.ScopeFrom(r.Context()).Workspace.ID, opt)
	if err != nil {
		return httpx.Internal(err)
	}
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
	next := ""
	if len(list) == n {
		next = list[len(list)-1].ID
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"conversations": out, "next_before": next})
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
		author.ID = p.APIKey.ID
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

type conversationPatch struct {
	Owner  *string `json:"owner"`
	Status *string `json:"status"`
}

// updateConversation hands the conversation to another owner and/or opens
// or closes it.
func (a *API) updateConversation(w http.ResponseWriter, r *http.Request) error {
	ws := access.ScopeFrom(r.Context()).Workspace.ID
	id := r.PathValue("conversation_id")
	if _, err := a.Inbox.Conversation(r.Context(), ws, id); err != nil {
		return conversationError(err)
	}
	var in conversationPatch
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		return err
	}
	if in.Owner == nil && in.Status == nil {
		return httpx.BadRequest("nothing_to_change", "Send owner, status or both.")
	}
	// Check both before changing either, so a bad value changes nothing.
	if in.Owner != nil {
		switch inbox.Owner(*in.Owner) {
		case inbox.OwnerBot, inbox.OwnerAI, inbox.OwnerHuman, inbox.OwnerNobody:
		default:
			return httpx.Invalid("owner", `owner must be one of "bot", "ai", "human" or "nobody".`)
		}
	}
	if in.Status != nil && inbox.Status(*in.Status) != inbox.StatusOpen && inbox.Status(*in.Status) != inbox.StatusClosed {
		return httpx.Invalid("status", `status must be "open" or "closed".`)
	}
	actor := access.Actor(r)
	if in.Owner != nil {
		if err := a.Inbox.SetOwner(r.Context(), actor, ws, id, inbox.Owner(*in.Owner)); err != nil {
			return conversationError(err)
		}
	}
	if in.Status != nil {
		if err := a.Inbox.SetStatus(r.Context(), actor, ws, id, inbox.Status(*in.Status)); err != nil {
			return conversationError(err)
		}
	}
	c, err := a.Inbox.Conversation(r.Context(), ws, id)
	if err != nil {
		return conversationError(err)
	}
	ct, err := a.Contacts.Get(r.Context(), ws, c.ContactID)
	if err != nil {
		return httpx.Internal(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, toConversationJSON(c, ct.DisplayName()))
}

// conversationError maps what the inbox refuses: the messaging policy
// (422, code = the reason), content that cannot be sent (422 naming the
// field), and conversations that are not the workspace's (404).
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
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("conversation")
	case errors.Is(err, inbox.ErrInvalid):
		return httpx.BadRequest("invalid_request", "The request is not valid.")
	}
	return httpx.Internal(err)
}

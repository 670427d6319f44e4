package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/workspace"
)

// unnamed is how a person who shared no name is called.
const unnamed = "Messenger user"

// Page sizes: the list shows the latest conversations; a thread its latest
// messages (the full inbox, with paging and search, comes later).
const (
	listLimit   = 50
	threadLimit = 100
)

func conversationsPath(wsID string) string { return "/w/" + wsID + "/conversations" }

func conversationPath(wsID, id string) string { return conversationsPath(wsID) + "/" + id }

// conversationsView is the conversation list.
type conversationsView struct {
	Rows []conversationRow
	// HasChannels is false until a channel is connected: the empty state
	// then points to Channels.
	HasChannels bool
	// Status is the filter: "open" or "" for all.
	Status string
	// Self is the list's address, which the list polls.
	Self string
}

// conversationRow is one conversation in the list.
type conversationRow struct {
	ID       string
	Name     string
	Initials string
	// Preview is the last message in one line; From says who of the
	// business sent it ("You", a teammate's name, "Bot" …), empty for the
	// person's own.
	Preview    string
	From       string
	Unanswered bool
	Channel    string
	Owner      string
	When       string
	Closed     bool
}

func (d *Dashboard) conversations(w http.ResponseWriter, r *http.Request) error {
	p, err := d.newPage(r, "Conversations")
	if err != nil {
		return err
	}
	p.Nav = "conversations"
	v := &conversationsView{Status: "open", Self: conversationsPath(p.WS.ID)}
	if r.URL.Query().Get("status") == "all" {
		v.Status, v.Self = "", v.Self+"?status=all"
	}
	channels, err := d.channelNames(r, p.WS.ID)
	if err != nil {
		return err
	}
	v.HasChannels = len(channels) > 0
	list, err := d.Inbox.Conversations(r.Context(), p.WS.ID, inbox.ListOptions{Status: inbox.Status(v.Status), Limit: listLimit})
	if err != nil {
		return err
	}
	names, err := d.memberNames(r, p.WS.ID)
	if err != nil {
		return err
	}
	now := d.Now()
	for _, s := range list {
		row := conversationRow{
			ID: s.ID, Name: orUnnamed(s.ContactName), Unanswered: s.Unanswered,
			Channel: channels[s.ChannelID].Name, Owner: ownerWords(s.Conversation, names),
			When: ago(s.LastActivityAt, now), Closed: s.Status == inbox.StatusClosed,
		}
		row.Initials = initials(row.Name)
		if m := s.LastMessage; m != nil {
			row.Preview, row.From = preview(m.Content), previewFrom(*m, p.User.ID, names)
			if m.Deleted {
				row.Preview = "Message removed"
			}
		}
		v.Rows = append(v.Rows, row)
	}
	if r.URL.Query().Get("test") != "" {
		p.Notice = "Your test customer wrote to the test page. Their conversation appears here in a moment."
	}
	p.Data = v
	return d.render(w, http.StatusOK, "conversations", p)
}

// channelNames returns the workspace's channels by ID.
func (d *Dashboard) channelNames(r *http.Request, wsID string) (map[string]channel.Channel, error) {
	cs, err := d.Channels.List(r.Context(), wsID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]channel.Channel, len(cs))
	for _, c := range cs {
		out[c.ID] = c
	}
	return out, nil
}

// memberNames returns the workspace's members' names (or addresses) by
// user ID, to say which agent wrote what.
// previewFrom says who of the business sent m, for the conversation
// list: you, a teammate by name, or the automation; "" for the person's
// own messages.
func previewFrom(m inbox.Message, self string, names map[string]string) string {
	if m.Direction != inbox.Out {
		return ""
	}
	switch m.SenderType {
	case inbox.SenderAgent:
		if m.SenderID == self {
			return "You"
		}
		if n := names[m.SenderID]; n != "" {
			return n
		}
		return "Team"
	case inbox.SenderFlow:
		return "Bot"
	case inbox.SenderAI:
		return "AI"
	case inbox.SenderBroadcast:
		return "Broadcast"
	case inbox.SenderPage:
		return "Page"
	}
	return "You"
}

func (d *Dashboard) memberNames(r *http.Request, wsID string) (map[string]string, error) {
	ms, err := d.Workspaces.Members(r.Context(), wsID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(ms))
	for _, m := range ms {
		out[m.UserID] = memberName(m)
	}
	return out, nil
}

func memberName(m workspace.Member) string {
	if m.Name != "" {
		return m.Name
	}
	return m.Email
}

// ownerWords says who handles a conversation, to follow "handled by".
func ownerWords(c inbox.Conversation, names map[string]string) string {
	switch c.Owner {
	case inbox.OwnerBot:
		return "automatic replies"
	case inbox.OwnerAI:
		return "the AI agent"
	case inbox.OwnerHuman:
		if n := names[c.AssigneeID]; n != "" {
			return n
		}
		return "your team"
	}
	return "nobody"
}

func orUnnamed(name string) string {
	if strings.TrimSpace(name) == "" {
		return unnamed
	}
	return name
}

// initials are up to two letters for a name's avatar.
func initials(name string) string {
	var out []rune
	for _, f := range strings.Fields(name) {
		out = append(out, []rune(strings.ToUpper(f))[0])
		if len(out) == 2 {
			break
		}
	}
	return string(out)
}

// conversationView is one conversation's page.
type conversationView struct {
	ID       string
	Name     string
	Initials string
	Contact  contact.Contact
	Channel  channel.Channel
	IsTest   bool
	Owner    string
	// Automated is true while automatic replies (or the AI agent) answer:
	// the page offers to take the conversation over.
	Automated bool
	Closed    bool
	Thread    threadView
	// Policy is what Messenger allows a person to send now: the reply box
	// shows its explanation, and is hidden when nothing may be sent.
	Policy channel.Decision
	// Panel is the contact's fields, tags, stage and subscription.
	Panel *contactPanel
}

// threadView is the messages of a conversation, which the page polls.
type threadView struct {
	// Self is the fragment's address; Version identifies what it shows,
	// so that polling an unchanged thread swaps nothing.
	Self, Version string
	Messages      []messageRow
	// Earlier is true when older messages are not shown.
	Earlier bool
}

// messageRow is one message in a thread.
type messageRow struct {
	ID   string
	In   bool
	Body bodyView
	// Deleted marks a message the person unsent.
	Deleted bool
	// Who says who wrote it; When is its time.
	Who, When string
	// Status is an outgoing message's state in words, StatusClass its
	// look; Failure says why a message was not sent.
	Status, StatusClass, Failure string
}

// loadConversation reads the conversation of the request in the caller's
// workspace, with its channel and contact.
func (d *Dashboard) loadConversation(r *http.Request, wsID string) (inbox.Conversation, channel.Channel, contact.Contact, error) {
	c, err := d.Inbox.Conversation(r.Context(), wsID, r.PathValue("conversation_id"))
	if err != nil {
		return c, channel.Channel{}, contact.Contact{}, notFound(err, "conversation")
	}
	ch, err := d.Channels.Get(r.Context(), wsID, c.ChannelID)
	if err != nil {
		return c, ch, contact.Contact{}, err
	}
	ct, err := d.Contacts.Get(r.Context(), wsID, c.ContactID)
	if err != nil {
		return c, ch, ct, err
	}
	return c, ch, ct, nil
}

// notFound names what was not found; other errors pass through.
func notFound(err error, what string) error {
	if errors.Is(err, db.ErrNotFound) {
		return httpx.NotFound(what)
	}
	return err
}

// conversationPage loads the whole page; f carries the reply forms'
// drafts and errors.
func (d *Dashboard) conversationPage(r *http.Request, f *form) (*page, error) {
	p, err := d.newPage(r, "Conversation")
	if err != nil {
		return nil, err
	}
	p.Nav = "conversations"
	c, ch, ct, err := d.loadConversation(r, p.WS.ID)
	if err != nil {
		return nil, err
	}
	names, err := d.memberNames(r, p.WS.ID)
	if err != nil {
		return nil, err
	}
	v := &conversationView{
		ID: c.ID, Name: orUnnamed(ct.DisplayName()), Contact: ct, Channel: ch,
		IsTest: d.Simulator != nil && d.Simulator.IsTestPage(ch) && ch.Status == channel.Active,
		Owner:  ownerWords(c, names), Closed: c.Status == inbox.StatusClosed,
		Automated: c.Owner == inbox.OwnerBot || c.Owner == inbox.OwnerAI,
		Policy:    d.replyPolicy(c, ch, ct),
	}
	if v.Thread, err = d.loadThread(r, p.WS.ID, c, v.Name, names); err != nil {
		return nil, err
	}
	if v.Panel, err = d.loadPanel(r, p.WS, c.ID, ct, p.ReadOnly(), nil); err != nil {
		return nil, err
	}
	p.Title, v.Initials = v.Name, initials(v.Name)
	if f == nil {
		f = newForm(r)
	}
	p.Form, p.Data = f, v
	return p, nil
}

// replyPolicy is what Messenger allows a person on the team to send now.
func (d *Dashboard) replyPolicy(c inbox.Conversation, ch channel.Channel, ct contact.Contact) channel.Decision {
	if ch.Status != channel.Active {
		return channel.Decision{Reason: "disconnected",
			Explanation: "The Page “" + ch.Name + "” is disconnected, so nothing can be sent. Connect it again in Channels to reply."}
	}
	return d.Inbox.AgentPolicy(ch, c, ct.DisplayName())
}

// loadThread reads the latest messages, oldest first.
func (d *Dashboard) loadThread(r *http.Request, wsID string, c inbox.Conversation, contactName string, names map[string]string) (threadView, error) {
	ms, err := d.Inbox.Messages(r.Context(), wsID, c.ID, threadLimit+1, "")
	if err != nil {
		return threadView{}, notFound(err, "conversation")
	}
	t := threadView{Self: conversationPath(wsID, c.ID) + "/thread"}
	if len(ms) > threadLimit {
		t.Earlier = true
		ms = ms[:threadLimit]
	}
	slices.Reverse(ms) // newest first → oldest first, as a thread reads
	flows, err := d.flowNames(r, wsID, ms)
	if err != nil {
		return threadView{}, err
	}
	now := d.Now()
	h := sha256.New()
	for _, m := range ms {
		row := messageRowOf(m, contactName, names, flows, now)
		t.Messages = append(t.Messages, row)
		// Who is in the version too: a flow renamed shows its new name.
		fmt.Fprintf(h, "%s %s %d %t %s\n", m.ID, m.Status, m.UpdatedAt.UnixNano(), m.Deleted, row.Who)
	}
	// The clock shown changes at midnight; so does the version.
	fmt.Fprintf(h, "%s %t", now.Format(time.DateOnly), t.Earlier)
	t.Version = hex.EncodeToString(h.Sum(nil)[:8])
	return t, nil
}

// flowNames looks up, in one query, the names of the flows that wrote
// messages among ms (a flow's replies carry its ID as their sender ID).
func (d *Dashboard) flowNames(r *http.Request, wsID string, ms []inbox.Message) (map[string]string, error) {
	var ids []string
	for _, m := range ms {
		if m.SenderType == inbox.SenderFlow && m.SenderID != "" && !slices.Contains(ids, m.SenderID) {
			ids = append(ids, m.SenderID)
		}
	}
	if len(ids) == 0 || d.Flows == nil {
		return nil, nil
	}
	return d.Flows.Names(r.Context(), wsID, ids)
}

// messageRowOf is how the thread shows m. names are the workspace's
// members' names and flows its flows' names, by ID.
func messageRowOf(m inbox.Message, contactName string, names, flows map[string]string, now time.Time) messageRow {
	row := messageRow{ID: m.ID, In: m.Direction == inbox.In, Body: describe(m.Content), Deleted: m.Deleted, When: clock(m.CreatedAt, now)}
	switch m.SenderType {
	case inbox.SenderContact:
		row.Who = contactName
	case inbox.SenderAgent:
		row.Who = names[m.SenderID]
		if row.Who == "" {
			row.Who = "Your team, through the API"
		}
	case inbox.SenderFlow:
		// The channel's fixed automatic reply has no flow behind it.
		row.Who = "Automatic reply"
		if name := flows[m.SenderID]; name != "" {
			row.Who = "Flow “" + name + "”"
		}
	case inbox.SenderAI:
		row.Who = "AI agent"
	case inbox.SenderBroadcast:
		row.Who = "Broadcast"
	case inbox.SenderPage:
		row.Who = "The Page, outside Parley"
	}
	if row.In {
		return row
	}
	switch m.Status {
	case inbox.StatusQueued, inbox.StatusSending:
		row.Status, row.StatusClass = "Sending…", "pending"
	case inbox.StatusSent:
		row.Status, row.StatusClass = "Sent ✓", "sent"
	case inbox.StatusDelivered:
		row.Status, row.StatusClass = "Delivered ✓✓", "delivered"
	case inbox.StatusRead:
		row.Status, row.StatusClass = "Read ✓✓", "read"
	case inbox.StatusFailed:
		row.Status, row.StatusClass = "Not sent", "failed"
		row.Failure = failureWords(m)
	}
	return row
}

// failureWords says why a message was not sent.
func failureWords(m inbox.Message) string {
	if m.ErrorMessage != "" {
		return m.ErrorMessage
	}
	switch m.ErrorCode {
	case channel.ReasonWindowClosed, channel.ReasonHumanWindowClosed:
		return "Messenger's reply window had closed."
	case channel.ReasonUnreachable:
		return "Messenger says this person can't be reached."
	case inbox.CodeNeedsReconnect:
		return "The Page needs reconnecting in Channels."
	case inbox.CodeUnknownOutcome:
		return "Messenger did not confirm it; it may not have arrived."
	}
	return "Messenger refused it."
}

func (d *Dashboard) conversation(w http.ResponseWriter, r *http.Request) error {
	p, err := d.conversationPage(r, nil)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "conversation", p)
}

// thread answers the thread alone, for the page's polling.
func (d *Dashboard) thread(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	c, _, ct, err := d.loadConversation(r, s.Workspace.ID)
	if err != nil {
		return err
	}
	names, err := d.memberNames(r, s.Workspace.ID)
	if err != nil {
		return err
	}
	t, err := d.loadThread(r, s.Workspace.ID, c, orUnnamed(ct.DisplayName()), names)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("v") == t.Version {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return d.renderFragment(w, "conversation", "thread", t)
}

// renderFragment writes one named template of a page's set, for htmx to
// swap into the page.
func (d *Dashboard) renderFragment(w http.ResponseWriter, page, name string, data any) error {
	set, ok := d.pages.sets[page]
	if !ok {
		return httpx.Internal(fmt.Errorf("web: no template %q", page))
	}
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, name, data); err != nil {
		return httpx.Internal(fmt.Errorf("web: render %s/%s: %w", page, name, err))
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	_, err := buf.WriteTo(w)
	return err
}

// reply sends an agent's message through the messaging policy. A refusal
// is shown in words on the page, with the draft kept.
func (d *Dashboard) reply(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	id := r.PathValue("conversation_id")
	user := access.PrincipalFrom(r.Context()).User
	_, err := d.Inbox.Reply(r.Context(), inbox.Author{Type: inbox.SenderAgent, ID: user.ID, Actor: access.Actor(r)},
		s.Workspace.ID, id, channel.Content{Text: r.PostFormValue("text")})
	if err == nil {
		return redirect(w, r, conversationPath(s.Workspace.ID, id))
	}
	f := newForm(r, "text")
	var (
		pe *inbox.PolicyError
		ce *channel.ContentError
	)
	status := http.StatusUnprocessableEntity
	switch {
	case errors.As(err, &pe):
		f.Errors["text"] = pe.Decision.Explanation
	case errors.As(err, &ce):
		f.Errors["text"] = ce.Message
	default:
		return notFound(err, "conversation")
	}
	p, lerr := d.conversationPage(r, f)
	if lerr != nil {
		return lerr
	}
	pushURL(w, conversationPath(s.Workspace.ID, id))
	return d.render(w, status, "conversation", p)
}

// writeAsCustomer plays the test page's customer: the text reaches
// Parley as a signed webhook, exactly like a real person's message.
func (d *Dashboard) writeAsCustomer(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	c, ch, ct, err := d.loadConversation(r, s.Workspace.ID)
	if err != nil {
		return err
	}
	if d.Simulator == nil || !d.Simulator.IsTestPage(ch) || ch.Status != channel.Active {
		return httpx.Conflict("not_a_test_page", "Only conversations on a connected test page can be written as the customer.")
	}
	text := strings.TrimSpace(r.PostFormValue("customer_text"))
	if text == "" {
		f := newForm(r)
		f.Errors["customer_text"] = "Write what the customer says."
		p, err := d.conversationPage(r, f)
		if err != nil {
			return err
		}
		pushURL(w, conversationPath(s.Workspace.ID, c.ID))
		return d.render(w, http.StatusUnprocessableEntity, "conversation", p)
	}
	if _, err := d.Simulator.WriteAsCustomer(r.Context(), ch, ct.ExternalID, text); err != nil {
		return httpx.Internal(err)
	}
	return redirect(w, r, conversationPath(s.Workspace.ID, c.ID))
}

// setOwner takes a conversation over (automatic replies stop) or hands it
// back to them.
func (d *Dashboard) setOwner(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	id := r.PathValue("conversation_id")
	var owner inbox.Owner
	switch r.PostFormValue("owner") {
	case "human":
		owner = inbox.OwnerHuman
	case "bot":
		owner = inbox.OwnerBot
	default:
		return httpx.BadRequest("invalid_owner", "Choose to take the conversation over or to hand it back.")
	}
	if err := d.Inbox.SetOwner(r.Context(), access.Actor(r), s.Workspace.ID, id, owner); err != nil {
		return notFound(err, "conversation")
	}
	return redirect(w, r, conversationPath(s.Workspace.ID, id))
}

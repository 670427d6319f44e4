package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/workspace"
)

// conversationView is one conversation's page.
type conversationView struct {
	ID       string
	Path     string
	Name     string
	Initials string
	Contact  contact.Contact
	Channel  channel.Channel
	IsTest   bool
	// Owner says who handles it, to follow "handled by"; OwnerKind is
	// bot, ai, human or nobody.
	Owner, OwnerKind string
	// Automated is true while the bot (or the AI agent) answers: the page
	// offers to take the conversation over. Human is true while people
	// answer: it offers to return it to the bot.
	Automated, Human bool
	Status           inbox.Status
	// StatusWords says the status in a few words ("Snoozed until
	// tomorrow 9:00").
	StatusWords string
	Resolved    bool
	// CanAct is true for members who answer (not viewers) in a workspace
	// that takes changes: the page shows its actions and forms.
	CanAct bool
	// Assignees are who may be assigned (owners, admins and agents);
	// Teams the workspace's teams. The current ones are selected.
	Assignees []option
	Teams     []option
	// Assignee is the assigned member's name ("" for none); Team the
	// team's.
	Assignee, Team string
	// AssignedToMe is true when the reader is assigned.
	AssignedToMe bool
	// SnoozeMin is the earliest time the custom snooze accepts, in the
	// workspace's zone (datetime-local format); Zone its name.
	SnoozeMin, Zone string
	Thread          threadView
	// Policy is what Messenger allows a person to send now: the reply box
	// shows its explanation, and is hidden when nothing may be sent.
	Policy channel.Decision
	// Members is the JSON of the members a note may mention, for the
	// note box's autocomplete.
	Members string
	// Tab is the composer tab shown first: reply or note.
	Tab string
	// Panel is the contact's fields, tags, stage and subscription.
	Panel *contactPanel
}

// conversationPage loads the whole page; f carries the forms' drafts and
// errors.
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
	ms, err := d.Workspaces.Members(r.Context(), p.WS.ID)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(ms))
	for _, m := range ms {
		names[m.UserID] = memberName(m)
	}
	loc := workspaceZone(p.WS)
	now := d.Now()
	v := &conversationView{
		ID: c.ID, Path: conversationPath(p.WS.ID, c.ID), Name: orUnnamed(ct.DisplayName()), Contact: ct, Channel: ch,
		IsTest: d.Simulator != nil && d.Simulator.IsTestPage(ch) && ch.Status == channel.Active,
		Owner:  ownerWords(c, names), Status: c.Status, Resolved: c.Status == inbox.StatusResolved,
		Automated: c.Owner == inbox.OwnerBot || c.Owner == inbox.OwnerAI, Human: c.Owner == inbox.OwnerHuman,
		Policy: d.replyPolicy(c, ch, ct),
		CanAct: p.Can(workspace.RoleAgent) && !p.ReadOnly(),
		Zone:   loc.String(), SnoozeMin: now.In(loc).Add(time.Minute).Format("2006-01-02T15:04"),
		AssignedToMe: c.AssigneeID != "" && c.AssigneeID == p.User.ID, Tab: "reply",
	}
	_, v.OwnerKind = ownerBadge(c, names)
	v.StatusWords = statusWords(c, now, loc)
	if c.AssigneeID != "" {
		v.Assignee = names[c.AssigneeID]
		if v.Assignee == "" {
			v.Assignee = "a former member"
		}
	}
	type mentionable struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	var mention []mentionable
	for _, m := range ms {
		mention = append(mention, mentionable{ID: m.UserID, Name: memberName(m)})
		if m.Role.AtLeast(workspace.RoleAgent) {
			label := memberName(m)
			if m.UserID == p.User.ID {
				label += " (you)"
			}
			v.Assignees = append(v.Assignees, option{Value: m.UserID, Label: label, Selected: m.UserID == c.AssigneeID})
		}
	}
	if b, err := json.Marshal(mention); err == nil {
		v.Members = string(b)
	}
	teams := map[string]string{}
	if d.Teams != nil {
		ts, err := d.Teams.Teams(r.Context(), p.WS.ID)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			teams[t.ID] = t.Name
			v.Teams = append(v.Teams, option{Value: t.ID, Label: t.Name, Selected: t.ID == c.TeamID})
		}
		v.Team = teams[c.TeamID]
	}
	tn := threadNames{self: p.User.ID, canAct: v.CanAct, admin: v.CanAct && p.Can(workspace.RoleAdmin),
		contact: v.Name, members: names, teams: teams, loc: loc}
	if v.Thread, err = d.loadThread(r, p.WS.ID, c, "", tn); err != nil {
		return nil, err
	}
	v.Thread.Unread = v.CanAct && c.Unread()
	if v.Panel, err = d.loadPanel(r, p.WS, c.ID, ct, p.ReadOnly(), nil); err != nil {
		return nil, err
	}
	p.Title, v.Initials = v.Name, initials(v.Name)
	if f == nil {
		f = newForm(r)
	}
	if f.Get("tab") == "note" {
		v.Tab = "note"
	}
	p.Form, p.Data = f, v
	return p, nil
}

// statusWords says a conversation's status in a few words.
func statusWords(c inbox.Conversation, now time.Time, loc *time.Location) string {
	switch c.Status {
	case inbox.StatusOpen:
		return "Open"
	case inbox.StatusPending:
		return "With the bot"
	case inbox.StatusSnoozed:
		if c.SnoozedUntil.IsZero() {
			return "Snoozed"
		}
		return "Snoozed until " + shortTime(c.SnoozedUntil, now, loc)
	case inbox.StatusResolved:
		return "Resolved"
	}
	return string(c.Status)
}

// replyPolicy is what Messenger allows a person on the team to send now.
func (d *Dashboard) replyPolicy(c inbox.Conversation, ch channel.Channel, ct contact.Contact) channel.Decision {
	if ch.Status != channel.Active {
		return channel.Decision{Reason: "disconnected",
			Explanation: "The Page “" + ch.Name + "” is disconnected, so nothing can be sent. Connect it again in Channels to reply."}
	}
	return d.Inbox.AgentPolicy(ch, c, ct.DisplayName())
}

// conversation shows a conversation and marks the reader's mentions in it
// read. It does not mark the conversation seen: a GET may be a prefetch or
// a restored tab, and "seen" reaches the customer in Messenger. The page
// posts to markSeen once it is on screen (static/inbox.js).
func (d *Dashboard) conversation(w http.ResponseWriter, r *http.Request) error {
	p, err := d.conversationPage(r, nil)
	if err != nil {
		return err
	}
	if d.Timeline != nil {
		if _, err := d.Timeline.MarkConversationMentionsRead(r.Context(), p.WS.ID, p.User.ID, r.PathValue("conversation_id")); err != nil {
			d.Log.Warn("mentions not marked read", "workspace", p.WS.ID, "err", err)
		}
	}
	return d.render(w, http.StatusOK, "conversation", p)
}

// threadOf reads the request's conversation and its timeline (from
// cursor on; "" for the newest).
func (d *Dashboard) threadOf(r *http.Request, cursor string) (inbox.Conversation, threadView, error) {
	s := access.ScopeFrom(r.Context())
	c, _, ct, err := d.loadConversation(r, s.Workspace.ID)
	if err != nil {
		return c, threadView{}, err
	}
	names, err := d.memberNames(r, s.Workspace.ID)
	if err != nil {
		return c, threadView{}, err
	}
	ws := &workspace.Membership{Workspace: *s.Workspace, Role: s.Role}
	teams := map[string]string{}
	if d.Teams != nil {
		ts, err := d.Teams.Teams(r.Context(), s.Workspace.ID)
		if err != nil {
			return c, threadView{}, err
		}
		for _, t := range ts {
			teams[t.ID] = t.Name
		}
	}
	user := access.PrincipalFrom(r.Context()).User
	canAct := s.Role.AtLeast(workspace.RoleAgent) && !s.Workspace.ReadOnly(d.Now())
	t, err := d.loadThread(r, s.Workspace.ID, c, cursor, threadNames{self: user.ID, canAct: canAct, admin: canAct && s.Role.AtLeast(workspace.RoleAdmin),
		contact: orUnnamed(ct.DisplayName()), members: names, teams: teams, loc: workspaceZone(ws)})
	return c, t, err
}

// earlier answers the timeline items before a page ("Show earlier"), to
// go above those shown.
func (d *Dashboard) earlier(w http.ResponseWriter, r *http.Request) error {
	cursor := r.URL.Query().Get("cursor")
	if cursor == "" {
		return httpx.BadRequest("invalid_cursor", "Say which messages to show.")
	}
	_, t, err := d.threadOf(r, cursor)
	if err != nil {
		return err
	}
	return d.renderFragment(w, "conversation", "thread-items", t)
}

// thread answers the thread alone, for the page's refresh.
func (d *Dashboard) thread(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	c, t, err := d.threadOf(r, "")
	if err != nil {
		return err
	}
	if r.URL.Query().Get("v") == t.Version {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	// A message that came in while the page is open is marked seen by the
	// page itself (data-unread), only while it is on screen.
	t.Unread = c.Unread() && s.Role.AtLeast(workspace.RoleAgent) && !s.Workspace.ReadOnly(d.Now())
	return d.renderFragment(w, "conversation", "thread", t)
}

// markSeen marks the conversation seen for the member looking at it: it is
// no longer unread in the list, and the person sees "Seen" in Messenger
// when the messaging window allows. The conversation page posts here when
// it is on screen with unread messages.
func (d *Dashboard) markSeen(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if err := d.Inbox.MarkSeen(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("conversation_id")); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return httpx.NotFound("conversation")
		}
		return httpx.Internal(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
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

package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/canned"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/timeline"
	"github.com/parleyhq/parley/internal/validate"
	"github.com/parleyhq/parley/internal/workspace"
)

// The conversation page's actions. Each is a plain form post answered with
// a redirect back to the page (htmx follows it), or with the page again
// and the problem in words. A choice that no form offers (a tampered
// post) is a 400 that says what to choose; nothing changes.

// back redirects to the request's conversation.
func back(w http.ResponseWriter, r *http.Request) error {
	return redirect(w, r, conversationPath(scopeWS(r), r.PathValue("conversation_id")))
}

// showProblem shows the conversation page again with msg above it (and
// on the field, when there is one), in status, keeping f's drafts.
func (d *Dashboard) showProblem(w http.ResponseWriter, r *http.Request, status int, f *form, field, msg string) error {
	if f == nil {
		f = newForm(r)
	}
	if field != "" {
		f.Errors[field] = msg
	} else {
		f.Error = msg
	}
	p, err := d.conversationPage(r, f)
	if err != nil {
		return err
	}
	pushURL(w, conversationPath(p.WS.ID, r.PathValue("conversation_id")))
	return d.render(w, status, "conversation", p)
}

// inboxProblem turns a refusal of the inbox into words on the page; an
// unknown conversation is a 404, anything else passes through.
func (d *Dashboard) inboxProblem(w http.ResponseWriter, r *http.Request, err error, msg string) error {
	if errors.Is(err, inbox.ErrInvalid) {
		return d.showProblem(w, r, http.StatusUnprocessableEntity, nil, "", msg)
	}
	return notFound(err, "conversation")
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
	switch {
	case errors.As(err, &pe):
		return d.showProblem(w, r, http.StatusUnprocessableEntity, f, "text", pe.Decision.Explanation)
	case errors.As(err, &ce):
		return d.showProblem(w, r, http.StatusUnprocessableEntity, f, "text", ce.Message)
	}
	return notFound(err, "conversation")
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
		return d.showProblem(w, r, http.StatusUnprocessableEntity, nil, "customer_text", "Write what the customer says.")
	}
	if _, err := d.Simulator.WriteAsCustomer(r.Context(), ch, ct.ExternalID, text); err != nil {
		return httpx.Internal(err)
	}
	return redirect(w, r, conversationPath(s.Workspace.ID, c.ID))
}

// setOwner takes a conversation over (the bot stops) or returns it to the
// bot.
func (d *Dashboard) setOwner(w http.ResponseWriter, r *http.Request) error {
	var owner inbox.Owner
	switch r.PostFormValue("owner") {
	case "human":
		owner = inbox.OwnerHuman
	case "bot":
		owner = inbox.OwnerBot
	default:
		return httpx.BadRequest("invalid_owner", "Choose to take the conversation over or to return it to the bot.")
	}
	err := d.Inbox.SetOwner(r.Context(), access.Actor(r), scopeWS(r), r.PathValue("conversation_id"), owner)
	if err != nil {
		return d.inboxProblem(w, r, err, "That change is not possible for this conversation now. The page shows who handles it.")
	}
	return back(w, r)
}

// assign gives the conversation to a member ("me" for the reader, "" for
// nobody).
func (d *Dashboard) assign(w http.ResponseWriter, r *http.Request) error {
	who := r.PostFormValue("user_id")
	if who == "me" {
		who = access.PrincipalFrom(r.Context()).User.ID
	}
	err := d.Inbox.Assign(r.Context(), access.Actor(r), scopeWS(r), r.PathValue("conversation_id"), who)
	if err != nil {
		return d.inboxProblem(w, r, err, "Only owners, admins and agents of this workspace can be assigned a conversation.")
	}
	return back(w, r)
}

// setTeam moves the conversation to a team ("" for none).
func (d *Dashboard) setTeam(w http.ResponseWriter, r *http.Request) error {
	err := d.Inbox.SetTeam(r.Context(), access.Actor(r), scopeWS(r), r.PathValue("conversation_id"), r.PostFormValue("team_id"))
	if err != nil {
		return d.inboxProblem(w, r, err, "That team does not exist in this workspace. Choose one from the list.")
	}
	return back(w, r)
}

// setStatus resolves or reopens the conversation.
func (d *Dashboard) setStatus(w http.ResponseWriter, r *http.Request) error {
	ws, id, a := scopeWS(r), r.PathValue("conversation_id"), access.Actor(r)
	var err error
	switch r.PostFormValue("status") {
	case "resolved":
		err = d.Inbox.Resolve(r.Context(), a, ws, id)
	case "open":
		err = d.Inbox.Reopen(r.Context(), a, ws, id)
	default:
		return httpx.BadRequest("invalid_status", "Choose to resolve the conversation or to reopen it.")
	}
	if err != nil {
		return d.inboxProblem(w, r, err, "That change is not possible for this conversation now.")
	}
	return back(w, r)
}

// snooze hides the conversation until a preset time or one chosen, in
// the workspace's time zone.
func (d *Dashboard) snooze(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	ws := &workspace.Membership{Workspace: *s.Workspace, Role: s.Role}
	preset := r.PostFormValue("for")
	until, ok := snoozeUntil(preset, r.PostFormValue("until"), d.Now(), workspaceZone(ws))
	if !ok {
		if preset == snoozeCustom {
			f := newForm(r, "until")
			return d.showProblem(w, r, http.StatusUnprocessableEntity, f, "until", "Choose a date and a time to snooze until.")
		}
		return httpx.BadRequest("invalid_snooze", "Choose how long to snooze: 1 hour, tomorrow, next week or a time of your own.")
	}
	err := d.Inbox.Snooze(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("conversation_id"), until)
	if errors.Is(err, inbox.ErrInvalid) {
		f := newForm(r, "until")
		return d.showProblem(w, r, http.StatusUnprocessableEntity, f, "until", "Choose a time in the future, within a year.")
	}
	if err != nil {
		return notFound(err, "conversation")
	}
	return back(w, r)
}

// addNote adds a private note, which only the team sees.
func (d *Dashboard) addNote(w http.ResponseWriter, r *http.Request) error {
	if d.Timeline == nil {
		return httpx.NotFound("page")
	}
	_, err := d.Timeline.AddNote(r.Context(), access.Actor(r), scopeWS(r), r.PathValue("conversation_id"), r.PostFormValue("note"))
	if errors.Is(err, timeline.ErrInvalid) {
		f := newForm(r, "note")
		f.Values.Set("tab", "note")
		msg := "Write the note (at most 5,000 characters)."
		var ve *validate.Error
		if errors.As(err, &ve) && ve.Message != "" {
			msg = ve.Message
		}
		return d.showProblem(w, r, http.StatusUnprocessableEntity, f, "note", msg)
	}
	if err != nil {
		return notFound(err, "conversation")
	}
	return back(w, r)
}

// typing shows the person that someone is writing (the reply box posts it
// while an agent types, throttled). Only a conversation a person owns
// shows one; otherwise nothing is sent and that is no error, nor is a
// platform that did not take it. It answers 204.
func (d *Dashboard) typing(w http.ResponseWriter, r *http.Request) error {
	err := d.Inbox.Typing(r.Context(), scopeWS(r), r.PathValue("conversation_id"), r.PostFormValue("on") != "0")
	switch {
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("conversation")
	case err != nil && !errors.Is(err, inbox.ErrInvalid):
		// A courtesy the platform did not take: the agent's page has
		// nothing to show for it.
		d.Log.Warn("typing indicator not sent", "workspace", scopeWS(r), "conversation", r.PathValue("conversation_id"), "err", err)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// cannedSuggestion is a canned response as the reply box offers it, its
// text already filled in for this conversation.
type cannedSuggestion struct {
	Shortcut string `json:"shortcut"`
	Title    string `json:"title"`
	Text     string `json:"text"`
}

// cannedFor answers the canned responses whose shortcut or title starts
// with q, rendered for the conversation's contact and the reader (JSON,
// for the reply box's "/" list).
func (d *Dashboard) cannedFor(w http.ResponseWriter, r *http.Request) error {
	if d.Canned == nil {
		return httpx.NotFound("page")
	}
	s := access.ScopeFrom(r.Context())
	_, _, ct, err := d.loadConversation(r, s.Workspace.ID)
	if err != nil {
		return err
	}
	list, err := d.Canned.List(r.Context(), s.Workspace.ID, canned.NormalizeShortcut(r.URL.Query().Get("q")), 8)
	if err != nil {
		return err
	}
	user := access.PrincipalFrom(r.Context()).User
	agent := user.Name
	if agent == "" {
		agent = user.Email
	}
	first, _, _ := strings.Cut(agent, " ")
	vars := canned.Vars{
		canned.VarFirstName: ct.FirstName, canned.VarLastName: ct.LastName, canned.VarContactName: ct.DisplayName(),
		canned.VarAgentName: agent, canned.VarAgentFirst: first, canned.VarWorkspace: s.Workspace.Name,
	}
	out := make([]cannedSuggestion, 0, len(list))
	for _, c := range list {
		out = append(out, cannedSuggestion{Shortcut: c.Shortcut, Title: c.Title, Text: canned.Render(c.Body, vars)})
	}
	w.Header().Set("Cache-Control", "no-store")
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"responses": out})
}

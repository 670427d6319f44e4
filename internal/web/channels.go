package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/channel/connect"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/validate"
)

// channelsView is the Channels page: the connected channels with their
// health, and the ways to connect another.
type channelsView struct {
	Channels []channelRow
	// Simulator offers the one-click test page, until one is connected.
	Simulator bool
}

// channelRow is a channel as people see it: whether it works, and what
// last happened, in words.
type channelRow struct {
	channel.Channel
	Connected      bool
	NeedsReconnect bool
	IsTest         bool
	// LastEvent and LastErrorAgo say when, in words ("3 minutes ago").
	LastEvent    string
	LastErrorAgo string
}

func (d *Dashboard) channelRow(c channel.Channel) channelRow {
	now := d.Now()
	row := channelRow{
		Channel:        c,
		Connected:      c.Status == channel.Active,
		NeedsReconnect: c.Status == channel.Active && c.TokenState == channel.TokenNeedsReconnect,
		IsTest:         d.Simulator != nil && d.Simulator.IsTestPage(c),
		LastErrorAgo:   ago(c.LastErrorAt, now),
	}
	if c.LastEventAt.IsZero() {
		row.LastEvent = "nothing received yet"
	} else {
		row.LastEvent = ago(c.LastEventAt, now)
	}
	return row
}

func channelsPath(wsID string) string { return "/w/" + wsID + "/channels" }

func channelPath(wsID, id string) string { return "/w/" + wsID + "/channels/" + id }

// channelsPage loads the Channels page; f, when given, is the paste-a-
// token form shown again with its errors.
func (d *Dashboard) channelsPage(r *http.Request, f *form) (*page, error) {
	p, err := d.newPage(r, "Channels")
	if err != nil {
		return nil, err
	}
	p.Nav = "channels"
	if f == nil {
		f = newForm(r)
	}
	p.Form = f
	cs, err := d.Channels.List(r.Context(), p.WS.ID)
	if err != nil {
		return nil, err
	}
	v := &channelsView{Simulator: d.Simulator != nil}
	for _, c := range cs {
		row := d.channelRow(c)
		if row.IsTest && row.Connected {
			v.Simulator = false // it is there already: its page starts test conversations
		}
		v.Channels = append(v.Channels, row)
	}
	switch n, _ := strconv.Atoi(r.URL.Query().Get("connected")); {
	case n == 1:
		p.Notice = "The Page is connected. New messages to it appear in Conversations."
	case n > 1:
		p.Notice = fmt.Sprintf("%d Pages are connected. New messages to them appear in Conversations.", n)
	}
	if r.URL.Query().Get("disconnected") != "" {
		p.Notice = "The Page is disconnected. Its conversations are still here."
	}
	p.Data = v
	return p, nil
}

func (d *Dashboard) channels(w http.ResponseWriter, r *http.Request) error {
	p, err := d.channelsPage(r, nil)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "channels", p)
}

// connectToken connects a Page by a pasted Page access token, checked
// against Meta first. The token is never shown again, not even in the
// form after an error.
func (d *Dashboard) connectToken(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	c, err := d.Connect.ConnectToken(r.Context(), access.Actor(r), s.Workspace.ID,
		strings.TrimSpace(r.PostFormValue("page_id")), strings.TrimSpace(r.PostFormValue("access_token")))
	if err == nil {
		return redirect(w, r, channelPath(s.Workspace.ID, c.ID)+"?connected=1")
	}
	f := newForm(r, "page_id")
	status, ierr := f.fail(w, connectError(err), "page_id", "access_token")
	if ierr != nil {
		return ierr
	}
	p, err := d.channelsPage(r, f)
	if err != nil {
		return err
	}
	pushURL(w, channelsPath(s.Workspace.ID))
	return d.render(w, status, "channels", p)
}

// connectTestPage connects a fresh simulator page in one click.
func (d *Dashboard) connectTestPage(w http.ResponseWriter, r *http.Request) error {
	if d.Simulator == nil {
		return httpx.NotFound("page")
	}
	s := access.ScopeFrom(r.Context())
	c, err := d.Simulator.ConnectTestPage(r.Context(), access.Actor(r), s.Workspace.ID)
	if err != nil {
		return connectError(err)
	}
	return redirect(w, r, channelPath(s.Workspace.ID, c.ID)+"?connected=1")
}

// connectError maps what connecting and configuring a channel can refuse,
// in the dashboard's words: Meta refusing a token, a Page connected to
// another workspace, a field to fix (named as the form names it).
func connectError(err error) error {
	var ce *connect.ConnectError
	if v, ok := validate.As(err); ok {
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_input", Field: formField(v.Field), Message: fieldMessage(v)}
	}
	switch {
	case errors.As(err, &ce):
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: ce.Code, Message: ce.Message, Err: err}
	case errors.Is(err, channel.ErrTakenElsewhere):
		return httpx.Conflict("page_taken", "This Page is connected to another Parley workspace. Disconnect it there first: a Page's messages can only go to one workspace.")
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("channel")
	}
	return domainError(err)
}

// formField names a connect field the way the forms do.
func formField(f string) string {
	if f == "token" {
		return "access_token"
	}
	return f
}

// fieldMessage says which row of a settings list a message is about
// ("menu[1].title" is the second menu entry shown).
func fieldMessage(v *validate.Error) string {
	for prefix, what := range map[string]string{"menu[": "Menu entry", "ice_breakers[": "Ice breaker"} {
		rest, ok := strings.CutPrefix(v.Field, prefix)
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, ']'), 0)]); err == nil {
			return fmt.Sprintf("%s %d: %s", what, n+1, v.Message)
		}
	}
	return v.Message
}

// channelView is one channel's page.
type channelView struct {
	channelRow
	// Menu and IceBreakers are the settings as form rows, plus blank ones
	// to add more.
	Menu        []menuRow
	IceBreakers []iceRow
}

// menuRow is a persistent-menu entry as the form edits it: a title and
// what tapping does, a link or a keyword. N numbers the rows from 1.
type menuRow struct {
	N             int
	Title, Action string
}

// iceRow is an ice breaker as the form edits it. N numbers the rows from 1.
type iceRow struct {
	N                 int
	Question, Payload string
}

// Form sizes: enough blank rows to add a few at a time, within
// Messenger's limits (20 menu entries, 4 ice breakers).
const (
	minMenuRows    = 3
	maxMenuRows    = 20
	iceBreakerRows = 4
)

func (d *Dashboard) loadChannel(r *http.Request) (*page, *channelView, error) {
	p, err := d.newPage(r, "Channel")
	if err != nil {
		return nil, nil, err
	}
	p.Nav = "channels"
	c, err := d.Channels.Get(r.Context(), p.WS.ID, r.PathValue("channel_id"))
	if err != nil {
		return nil, nil, connectError(err)
	}
	p.Title = c.Name
	v := &channelView{channelRow: d.channelRow(c)}
	v.fill(c.Settings)
	p.Data = v
	if r.URL.Query().Get("connected") != "" {
		p.Notice = "“" + c.Name + "” is connected. New messages to it appear in Conversations."
	}
	return p, v, nil
}

// fill lays the settings out as form rows, with blank ones to add more.
func (v *channelView) fill(st channel.Settings) {
	v.Menu = nil
	for _, m := range st.Menu {
		action := m.Payload
		if m.URL != "" {
			action = m.URL
		}
		v.Menu = append(v.Menu, menuRow{N: len(v.Menu) + 1, Title: m.Title, Action: action})
	}
	for blanks := max(1, minMenuRows-len(v.Menu)); blanks > 0 && len(v.Menu) < maxMenuRows; blanks-- {
		v.Menu = append(v.Menu, menuRow{N: len(v.Menu) + 1})
	}
	v.IceBreakers = nil
	for _, b := range st.IceBreakers {
		v.IceBreakers = append(v.IceBreakers, iceRow{N: len(v.IceBreakers) + 1, Question: b.Question, Payload: b.Payload})
	}
	for len(v.IceBreakers) < iceBreakerRows {
		v.IceBreakers = append(v.IceBreakers, iceRow{N: len(v.IceBreakers) + 1})
	}
}

func (d *Dashboard) channelPage(w http.ResponseWriter, r *http.Request) error {
	p, v, err := d.loadChannel(r)
	if err != nil {
		return err
	}
	p.Form = newForm(r)
	p.Form.Values.Set("auto_reply", v.AutoReply)
	p.Form.Values.Set("get_started", v.Settings.GetStarted)
	p.Form.Values.Set("greeting", v.Settings.Greeting)
	return d.render(w, http.StatusOK, "channel", p)
}

// settingsFromForm reads the settings form: rows left blank are dropped; a
// menu entry's action is a link when it looks like one, otherwise the
// keyword its tap sends.
func settingsFromForm(r *http.Request) channel.Settings {
	r.ParseForm() // PostFormValue below parses too; the lists need it first
	st := channel.Settings{
		GetStarted: strings.TrimSpace(r.PostFormValue("get_started")),
		Greeting:   strings.TrimSpace(r.PostFormValue("greeting")),
	}
	titles, actions := r.PostForm["menu_title"], r.PostForm["menu_action"]
	for i, t := range titles {
		t = strings.TrimSpace(t)
		a := ""
		if i < len(actions) {
			a = strings.TrimSpace(actions[i])
		}
		if t == "" && a == "" {
			continue
		}
		m := channel.MenuItem{Title: t}
		if strings.HasPrefix(a, "https://") || strings.HasPrefix(a, "http://") {
			m.URL = a
		} else {
			m.Payload = a
		}
		st.Menu = append(st.Menu, m)
	}
	questions, payloads := r.PostForm["ice_question"], r.PostForm["ice_payload"]
	for i, q := range questions {
		q = strings.TrimSpace(q)
		pl := ""
		if i < len(payloads) {
			pl = strings.TrimSpace(payloads[i])
		}
		if q == "" && pl == "" {
			continue
		}
		st.IceBreakers = append(st.IceBreakers, channel.IceBreaker{Question: q, Payload: pl})
	}
	return st
}

// configureChannel saves the automatic reply and the Page settings,
// pushing them to Messenger first.
func (d *Dashboard) configureChannel(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	id := r.PathValue("channel_id")
	st := settingsFromForm(r)
	autoReply := strings.TrimSpace(r.PostFormValue("auto_reply"))
	_, err := d.Connect.Configure(r.Context(), access.Actor(r), s.Workspace.ID, id, autoReply, st)
	if err == nil {
		p, v, err := d.loadChannel(r)
		if err != nil {
			return err
		}
		p.Form = newForm(r, "auto_reply", "get_started", "greeting")
		p.Notice = "Saved. People see the new settings the next time they open a conversation with “" + v.Name + "”."
		pushURL(w, channelPath(s.Workspace.ID, id))
		return d.render(w, http.StatusOK, "channel", p)
	}
	err = connectError(err)
	if e := httpx.AsError(err); e.Status == http.StatusNotFound {
		return err
	}
	f := newForm(r, "auto_reply", "get_started", "greeting")
	status, ierr := f.fail(w, err, "auto_reply", "get_started", "greeting")
	if ierr != nil {
		return ierr
	}
	p, v, lerr := d.loadChannel(r)
	if lerr != nil {
		return lerr
	}
	v.fill(st) // show what was typed, not what is saved
	p.Form = f
	pushURL(w, channelPath(s.Workspace.ID, id))
	return d.render(w, status, "channel", p)
}

func (d *Dashboard) confirmDisconnect(w http.ResponseWriter, r *http.Request) error {
	p, v, err := d.loadChannel(r)
	if err != nil {
		return err
	}
	if !v.Connected {
		return redirect(w, r, channelPath(p.WS.ID, v.ID))
	}
	p.Title = "Disconnect " + v.Name
	return d.render(w, http.StatusOK, "channel_disconnect", p)
}

// disconnect unsubscribes the Page and destroys its token; conversations
// stay.
func (d *Dashboard) disconnect(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if _, err := d.Connect.Disconnect(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("channel_id")); err != nil {
		return connectError(err)
	}
	return redirect(w, r, channelsPath(s.Workspace.ID)+"?disconnected=1")
}

// startTestConversation writes the first message to a test page as a new
// simulated customer. The message goes through the webhook like a real
// one, so its conversation appears a moment later.
func (d *Dashboard) startTestConversation(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	c, err := d.Channels.Get(r.Context(), s.Workspace.ID, r.PathValue("channel_id"))
	if err != nil {
		return connectError(err)
	}
	if d.Simulator == nil || !d.Simulator.IsTestPage(c) || c.Status != channel.Active {
		return httpx.Conflict("not_a_test_page", "Only a connected test page can play a customer.")
	}
	text := strings.TrimSpace(r.PostFormValue("text"))
	if text == "" {
		text = "Hello! Are you open today?"
	}
	if _, err := d.Simulator.WriteAsCustomer(r.Context(), c, "", text); err != nil {
		return httpx.Internal(err)
	}
	// All: the conversation shows whether the bot answers it or not.
	return redirect(w, r, conversationsPath(s.Workspace.ID)+"?status=all&test=1")
}

// loginView is the page that lists the Pages a Facebook Login can connect.
type loginView struct {
	LoginID string
	Pages   []connect.LoginPage
	// Selectable counts the pages that may be ticked.
	Selectable int
}

// beginLogin sends the browser to Facebook's Login dialog. It is a link,
// not a form: the page's form-action policy would stop a form from
// leaving the site.
func (d *Dashboard) beginLogin(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if s.Workspace.ReadOnly(d.Now()) {
		return errReadOnly
	}
	to, err := d.Connect.BeginLogin(r.Context(), s.Workspace.ID, access.PrincipalFrom(r.Context()).User.ID)
	if err != nil {
		return connectError(err)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// errReadOnly is the guard's answer to a write in an expired trial, for
// the one write that is a link (beginLogin).
var errReadOnly = &httpx.Error{Status: http.StatusPaymentRequired, Code: "trial_expired",
	Message: "This workspace's trial has ended, so it is read-only. Nothing has been deleted; choose a plan to make changes again."}

// callbackView is the page shown when coming back from Facebook without
// pages to choose.
type callbackView struct {
	Heading, Message string
	// Back is the Channels page of the workspace, when known.
	Back string
}

// loginCallback is where Facebook sends the browser back. Cancelling is
// not an error; anything else that fails is explained on a page.
func (d *Dashboard) loginCallback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p, err := d.newPage(r, "Connect with Facebook")
	if err != nil {
		return err
	}
	if e := q.Get("error"); e != "" || q.Get("code") == "" {
		v := callbackView{Heading: "Nothing was connected", Back: "/",
			Message: "You cancelled connecting with Facebook, or did not allow Parley to manage your Pages' messages. You can try again from Channels whenever you are ready."}
		status := http.StatusOK
		if e != "" && e != "access_denied" {
			v.Message = "Facebook did not finish connecting (it answered “" + e + "”). Please try again from Channels."
			status = http.StatusBadRequest
		}
		if q.Get("code") == "" && e == "" {
			v.Message = "This address only works when Facebook sends you back to Parley. Start from Channels."
			status = http.StatusBadRequest
		}
		p.Data = v
		return d.render(w, status, "channel_callback", p)
	}
	ws, loginID, err := d.Connect.FinishLogin(r.Context(), p.User.ID, q.Get("state"), q.Get("code"))
	if err != nil {
		v := callbackView{Heading: "Connecting with Facebook didn't work", Back: "/"}
		status := http.StatusNotFound
		if errors.Is(err, db.ErrNotFound) {
			// The login is someone else's: a link planted by another
			// account, or this person signed in as someone else meanwhile.
			v.Message = "This Facebook login was started from another Parley account. Sign in with the account that started it, or start again from Channels."
		} else {
			e := httpx.AsError(connectError(err))
			if e.Status >= 500 {
				return e
			}
			v.Message, status = e.Message, e.Status
		}
		p.Data = v
		return d.render(w, status, "channel_callback", p)
	}
	return redirect(w, r, channelsPath(ws)+"/messenger/logins/"+loginID)
}

func (d *Dashboard) loginPage(r *http.Request, f *form) (*page, error) {
	p, err := d.newPage(r, "Choose your Pages")
	if err != nil {
		return nil, err
	}
	p.Nav = "channels"
	loginID := r.PathValue("login_id")
	pages, err := d.Connect.Pages(r.Context(), p.WS.ID, p.User.ID, loginID)
	if err != nil {
		return nil, connectError(err)
	}
	v := &loginView{LoginID: loginID, Pages: pages}
	for _, pg := range pages {
		if !pg.Elsewhere {
			v.Selectable++
		}
	}
	if f == nil {
		f = newForm(r)
	}
	p.Form, p.Data = f, v
	return p, nil
}

func (d *Dashboard) loginPages(w http.ResponseWriter, r *http.Request) error {
	p, err := d.loginPage(r, nil)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "channel_login", p)
}

// connectPages connects the ticked Pages of a Facebook Login.
func (d *Dashboard) connectPages(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if err := r.ParseForm(); err != nil {
		return httpx.BadRequest("bad_form", "The form could not be read.")
	}
	ids := r.PostForm["page"]
	if len(ids) == 0 {
		f := newForm(r)
		f.Error = "Tick at least one Page to connect."
		p, err := d.loginPage(r, f)
		if err != nil {
			return err
		}
		return d.render(w, http.StatusUnprocessableEntity, "channel_login", p)
	}
	cs, err := d.Connect.ConnectPages(r.Context(), access.Actor(r), s.Workspace.ID, access.PrincipalFrom(r.Context()).User.ID, r.PathValue("login_id"), ids)
	if err != nil {
		err = connectError(err)
		if e := httpx.AsError(err); e.Status == http.StatusNotFound || e.Status >= 500 {
			return err
		}
		f := newForm(r)
		status, ierr := f.fail(w, err)
		if ierr != nil {
			return ierr
		}
		p, lerr := d.loginPage(r, f)
		if lerr != nil {
			return lerr
		}
		return d.render(w, status, "channel_login", p)
	}
	return redirect(w, r, fmt.Sprintf("%s?connected=%d", channelsPath(s.Workspace.ID), len(cs)))
}

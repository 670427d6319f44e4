package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

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

// listLimit is the conversation list's page size; "Load more" continues
// with the next page through the list's keyset cursor.
const listLimit = 50

func conversationsPath(wsID string) string { return "/w/" + wsID + "/conversations" }

func conversationPath(wsID, id string) string { return conversationsPath(wsID) + "/" + id }

// Who the list shows conversations of (the "who" filter).
const (
	whoAll        = "all"
	whoMine       = "mine"
	whoUnassigned = "unassigned"
)

// listFilter is the conversation list's filter bar, kept in the address
// so that a filtered list can be bookmarked, shared and reloaded.
type listFilter struct {
	// Status is one of the four statuses (default open).
	Status inbox.Status
	// Who is all, mine or unassigned.
	Who string
	// Team, Channel and Tag are IDs ("" for any).
	Team, Channel, Tag string
	Unread             bool
	// Cursor continues the list after a page ("" for the first).
	Cursor string
}

// parseFilter reads the filter from the address. An unknown status or
// "who" is refused with words, rather than silently showing something
// else.
func parseFilter(q url.Values) (listFilter, error) {
	f := listFilter{Status: inbox.StatusOpen, Who: whoAll,
		Team: q.Get("team"), Channel: q.Get("channel"), Tag: q.Get("tag"),
		Unread: q.Get("unread") == "1", Cursor: q.Get("cursor")}
	if s := q.Get("status"); s != "" {
		f.Status = inbox.Status(s)
		if !f.Status.Valid() && f.Status != statusAll {
			return f, httpx.BadRequest("invalid_status", "There is no “"+s+"” list: choose Open, Bot, Snoozed or Resolved.")
		}
	}
	if w := q.Get("who"); w != "" {
		if w != whoAll && w != whoMine && w != whoUnassigned {
			return f, httpx.BadRequest("invalid_filter", "Choose whose conversations to show: yours, unassigned ones or everyone's.")
		}
		f.Who = w
	}
	return f, nil
}

// query is the filter as an address query, defaults left out, without
// the cursor.
func (f listFilter) query() url.Values {
	q := url.Values{}
	if f.Status != inbox.StatusOpen {
		q.Set("status", string(f.Status))
	}
	if f.Who != whoAll {
		q.Set("who", f.Who)
	}
	for k, v := range map[string]string{"team": f.Team, "channel": f.Channel, "tag": f.Tag} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Unread {
		q.Set("unread", "1")
	}
	return q
}

// Narrowed reports whether anything beyond the status and "who" filters
// the list.
func (f listFilter) Narrowed() bool {
	return f.Team != "" || f.Channel != "" || f.Tag != "" || f.Unread
}

// options is the filter as the inbox's list options for user self.
func (f listFilter) options(self string) inbox.ListOptions {
	o := inbox.ListOptions{TeamID: f.Team, ChannelID: f.Channel, TagID: f.Tag,
		Unread: f.Unread, Limit: listLimit, Cursor: f.Cursor}
	if f.Status != statusAll {
		o.Status = []inbox.Status{f.Status}
	}
	switch f.Who {
	case whoMine:
		o.Assignee = self
	case whoUnassigned:
		o.Assignee = inbox.Unassigned
	}
	return o
}

// conversationsView is the conversation list.
type conversationsView struct {
	Rows []conversationRow
	// HasChannels is false until a channel is connected: the empty state
	// then points to Channels.
	HasChannels bool
	Filter      listFilter
	// Base is the list's address; Self the address with the filter, which
	// the list refreshes from; More the next page's ("" for the last).
	Base, Self, More string
	// Tabs are the statuses, Whos the "whose" choices, each a link that
	// keeps the other filters.
	Tabs, Whos []filterLink
	// Teams, Channels and Tags fill the filter bar's selects.
	Teams, Channels, Tags []option
	// Cleared is the address without the narrowing filters.
	Cleared string
	// Empty says, when there are no rows, why and what to do.
	Empty emptyList
	// Page is true on a page after the first (no JavaScript: "Load more"
	// was a plain link).
	Page bool
	// Mentions is the reader's unread mentions, beside the Mentions link.
	Mentions int
}

// filterLink is one choice of a filter, as a link.
type filterLink struct {
	Label, Href string
	Current     bool
	// Key is the keyboard-free name tests and scripts find it by.
	Key string
}

// option is one choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// emptyList is the empty state of a filtered list.
type emptyList struct {
	Title, Text string
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
	Unread     bool
	Channel    string
	// Owner is who answers: Bot, AI, a person's name or Nobody; OwnerKind
	// its look (bot, ai, human, nobody).
	Owner, OwnerKind string
	// Assignee is the assigned member's name and initials ("" for none).
	Assignee, AssigneeInitials string
	// SnoozedUntil says when a snoozed conversation comes back.
	SnoozedUntil string
	When         string
	Status       inbox.Status
}

// statusAll is the list's "All" tab: every status at once (where a new
// conversation is whether the bot answers it or not).
const statusAll inbox.Status = "all"

var statusTabs = []struct {
	Status inbox.Status
	Label  string
}{
	{inbox.StatusOpen, "Open"},
	{inbox.StatusPending, "Bot"},
	{inbox.StatusSnoozed, "Snoozed"},
	{inbox.StatusResolved, "Resolved"},
	{statusAll, "All"},
}

var whoChoices = []struct{ Who, Label string }{
	{whoMine, "Mine"},
	{whoUnassigned, "Unassigned"},
	{whoAll, "All"},
}

func (d *Dashboard) conversations(w http.ResponseWriter, r *http.Request) error {
	p, err := d.newPage(r, "Conversations")
	if err != nil {
		return err
	}
	p.Nav = "conversations"
	f, err := parseFilter(r.URL.Query())
	if err != nil {
		return err
	}
	ws := p.WS.ID
	base := conversationsPath(ws)
	v := &conversationsView{Filter: f, Base: base, Self: withQuery(base, f.query()), Page: f.Cursor != ""}
	channels, err := d.channelNames(r, ws)
	if err != nil {
		return err
	}
	v.HasChannels = len(channels) > 0
	pg, err := d.Inbox.List(r.Context(), ws, f.options(p.User.ID))
	if errors.Is(err, inbox.ErrInvalid) {
		return httpx.BadRequest("invalid_cursor", "This list address is not valid any more: open Conversations again.")
	}
	if err != nil {
		return err
	}
	if pg.NextCursor != "" {
		q := f.query()
		q.Set("cursor", pg.NextCursor)
		v.More = withQuery(base, q)
	}
	names, err := d.memberNames(r, ws)
	if err != nil {
		return err
	}
	loc := workspaceZone(p.WS)
	now := d.Now()
	for _, s := range pg.Conversations {
		row := conversationRow{
			ID: s.ID, Name: orUnnamed(s.ContactName), Unanswered: s.Unanswered, Unread: s.Unread(),
			Channel: channels[s.ChannelID].Name, When: ago(s.LastActivityAt, now), Status: s.Status,
		}
		row.Owner, row.OwnerKind = ownerBadge(s.Conversation, names)
		if s.AssigneeID != "" {
			row.Assignee = names[s.AssigneeID]
			if row.Assignee == "" {
				row.Assignee = "A former member"
			}
			row.AssigneeInitials = initials(row.Assignee)
		}
		if s.Status == inbox.StatusSnoozed && !s.SnoozedUntil.IsZero() {
			row.SnoozedUntil = shortTime(s.SnoozedUntil, now, loc)
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
	if err := d.filterBar(r, p, v, channels); err != nil {
		return err
	}
	v.Empty = emptyFor(f)
	v.Mentions = d.unreadMentions(r, ws)
	if r.URL.Query().Get("test") != "" {
		p.Notice = "Your test customer wrote to the test page. Their conversation appears here in a moment, and moves to Bot while a flow or the automatic reply answers it."
	}
	p.Data = v
	return d.render(w, http.StatusOK, "conversations", p)
}

// filterBar fills the list's tabs and selects.
func (d *Dashboard) filterBar(r *http.Request, p *page, v *conversationsView, channels map[string]channel.Channel) error {
	f := v.Filter
	for _, t := range statusTabs {
		g := f
		g.Status = t.Status
		v.Tabs = append(v.Tabs, filterLink{Label: t.Label, Href: withQuery(v.Base, g.query()), Current: f.Status == t.Status, Key: string(t.Status)})
	}
	for _, c := range whoChoices {
		g := f
		g.Who = c.Who
		v.Whos = append(v.Whos, filterLink{Label: c.Label, Href: withQuery(v.Base, g.query()), Current: f.Who == c.Who, Key: c.Who})
	}
	g := f
	g.Team, g.Channel, g.Tag, g.Unread = "", "", "", false
	v.Cleared = withQuery(v.Base, g.query())
	for _, c := range sortedChannels(channels) {
		v.Channels = append(v.Channels, option{Value: c.ID, Label: c.Name, Selected: c.ID == f.Channel})
	}
	tags, err := d.Contacts.Tags(r.Context(), p.WS.ID)
	if err != nil {
		return err
	}
	for _, t := range tags {
		v.Tags = append(v.Tags, option{Value: t.ID, Label: t.Name, Selected: t.ID == f.Tag})
	}
	if d.Teams != nil {
		teams, err := d.Teams.Teams(r.Context(), p.WS.ID)
		if err != nil {
			return err
		}
		for _, t := range teams {
			v.Teams = append(v.Teams, option{Value: t.ID, Label: t.Name, Selected: t.ID == f.Team})
		}
	}
	return nil
}

// emptyFor says why a list is empty and what to do about it.
func emptyFor(f listFilter) emptyList {
	var e emptyList
	switch f.Status {
	case inbox.StatusOpen:
		e = emptyList{"Nothing needs your team right now", "Conversations that need a person show here: when someone writes and no flow answers, when the bot hands over, or when you take one over. The ones the bot is answering are under Bot."}
	case inbox.StatusPending:
		e = emptyList{"The bot is not handling any conversation", "Conversations your flows and automatic replies are answering show here. Open one and press Take over to answer yourself."}
	case inbox.StatusSnoozed:
		e = emptyList{"Nothing is snoozed", "Snooze a conversation to hide it until later: it comes back by itself when the time is up, or as soon as the customer writes."}
	case inbox.StatusResolved:
		e = emptyList{"No resolved conversations", "Press Resolve on a conversation once it is done. If the customer writes again, it opens again."}
	case statusAll:
		e = emptyList{"No conversations yet", "When someone writes to one of your connected Pages, the conversation appears here."}
	}
	switch f.Who {
	case whoMine:
		e.Title = "Nothing here is assigned to you"
		e.Text = "Conversations assigned to you show here. Look at Unassigned or All to pick one up."
	case whoUnassigned:
		e.Title = "Everything here has someone assigned"
		e.Text = "Conversations nobody is assigned to show here. Look at All to see them."
	}
	if f.Narrowed() {
		e.Text = "No conversation matches these filters. Clear them to see more."
	}
	return e
}

// withQuery is path with q, when q has anything.
func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// sortedChannels are the channels by name.
func sortedChannels(m map[string]channel.Channel) []channel.Channel {
	out := make([]channel.Channel, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b channel.Channel) int { return strings.Compare(a.Name+a.ID, b.Name+b.ID) })
	return out
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
	case inbox.SenderIntegration:
		return "Integration"
	case inbox.SenderPage:
		return "Page"
	}
	return "You"
}

// memberNames returns the workspace's members' names (or addresses) by
// user ID, to say which agent wrote what.
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
		return "the bot"
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

// ownerBadge is the list's short owner label and its look.
func ownerBadge(c inbox.Conversation, names map[string]string) (label, kind string) {
	switch c.Owner {
	case inbox.OwnerBot:
		return "Bot", "bot"
	case inbox.OwnerAI:
		return "AI", "ai"
	case inbox.OwnerHuman:
		if n := names[c.AssigneeID]; n != "" {
			return n, "human"
		}
		return "Team", "human"
	}
	return "Nobody", "nobody"
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

// scopeWS is the request's workspace ID.
func scopeWS(r *http.Request) string { return access.ScopeFrom(r.Context()).Workspace.ID }

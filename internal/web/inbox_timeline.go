package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/timeline"
)

// threadLimit is how many timeline items (messages, events, notes) the
// conversation page shows, the newest.
const threadLimit = 100

// threadView is a conversation's timeline, which the page refreshes.
type threadView struct {
	// Self is the fragment's address; Version identifies what it shows,
	// so that refreshing an unchanged thread swaps nothing.
	Self, Version string
	// State sums up the conversation's owner, status, assignee and team:
	// when a refreshed thread's differs from the page header's, someone
	// else changed them and static/inbox.js refreshes the header.
	State string
	Items []threadItem
	// Earlier is true when older items are not shown; EarlierURL answers
	// them, a page at a time ("Show earlier").
	Earlier    bool
	EarlierURL string
	// Unread is true when the reader may mark the conversation seen and it
	// has messages nobody on the team has seen: the page then posts
	// "seen" once it is on screen (static/inbox.js).
	Unread bool
}

// threadItem is one entry of the timeline: exactly one of Message, Event
// and Note is set.
type threadItem struct {
	Message *messageRow
	Event   *eventRow
	Note    *noteRow
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

// eventRow is a change shown inline: "Sokha took over".
type eventRow struct {
	ID, Text, When string
	// Kind is the event's kind, for its look.
	Kind string
}

// noteRow is a private note, with its mentions picked out.
type noteRow struct {
	ID, Author, When string
	Parts            []notePart
	Erased, Edited   bool
	// Mine is true for the reader's own note (they may edit it; Text is
	// what the edit box starts with); CanDelete for its author and the
	// workspace's admins.
	Mine, CanDelete bool
	Text, Path      string
}

// notePart is a run of a note's text, or a mention (Me: of the reader).
type notePart struct {
	Text        string
	Mention, Me bool
}

// threadNames are the names a timeline needs, by ID.
type threadNames struct {
	self string
	// canAct and admin are the reader's rights on notes: members who
	// answer edit their own, admins delete anyone's.
	canAct, admin bool
	contact       string
	members       map[string]string
	flows         map[string]string
	teams         map[string]string
	loc           *time.Location
}

// loadThread reads the newest timeline items of c (or, with a cursor,
// those before the page it continues), oldest first.
func (d *Dashboard) loadThread(r *http.Request, wsID string, c inbox.Conversation, cursor string, n threadNames) (threadView, error) {
	pg, err := d.Inbox.Timeline(r.Context(), wsID, c.ID, cursor, threadLimit)
	if errors.Is(err, inbox.ErrInvalid) {
		return threadView{}, httpx.BadRequest("invalid_cursor", "This address is not valid any more: open the conversation again.")
	}
	if err != nil {
		return threadView{}, notFound(err, "conversation")
	}
	t := threadView{Self: conversationPath(wsID, c.ID) + "/thread", Earlier: pg.NextCursor != "", State: conversationState(c)}
	if t.Earlier {
		t.EarlierURL = t.Self + "/earlier?" + url.Values{"cursor": {pg.NextCursor}}.Encode()
	}
	items := pg.Items
	slices.Reverse(items) // newest first → oldest first, as a thread reads
	var msgs []inbox.Message
	for _, it := range items {
		if it.Message != nil {
			msgs = append(msgs, *it.Message)
		}
	}
	if n.flows, err = d.flowNames(r, wsID, msgs); err != nil {
		return threadView{}, err
	}
	now := d.Now()
	h := sha256.New()
	for _, it := range items {
		switch {
		case it.Message != nil:
			m := *it.Message
			row := messageRowOf(m, n.contact, n.members, n.flows, now)
			d.attachmentPreviews(wsID, m, &row) // attachments.go
			t.Items = append(t.Items, threadItem{Message: &row})
			// Who is in the version too: a flow renamed shows its new name.
			fmt.Fprintf(h, "m %s %s %d %t %s\n", m.ID, m.Status, m.UpdatedAt.UnixNano(), m.Deleted, row.Who)
		case it.Event != nil && it.Event.Kind == timeline.KindNote:
			row := noteRowOf(*it.Event, n, now)
			t.Items = append(t.Items, threadItem{Note: &row})
			note := it.Event.Note
			if note != nil {
				fmt.Fprintf(h, "n %s %d %s\n", it.Event.ID, note.EditedAt.UnixNano(), row.Author)
			}
		case it.Event != nil:
			text := eventWords(it.Event.Event, n, now)
			if text == "" {
				continue
			}
			t.Items = append(t.Items, threadItem{Event: &eventRow{ID: it.Event.ID, Text: text, When: clock(it.Event.At, now), Kind: string(it.Event.Kind)}})
			fmt.Fprintf(h, "e %s %s\n", it.Event.ID, text)
		}
	}
	// The clock shown changes at midnight; so does the version.
	fmt.Fprintf(h, "%s %t %s", now.Format(time.DateOnly), t.Earlier, t.State)
	t.Version = hex.EncodeToString(h.Sum(nil)[:8])
	return t, nil
}

// conversationState sums up what the page header shows of c.
func conversationState(c inbox.Conversation) string {
	return fmt.Sprintf("%s|%s|%s|%s|%d", c.Owner, c.Status, c.AssigneeID, c.TeamID, c.SnoozedUntil.Unix())
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
			// A member who has since left (older API-key replies were
			// stored as the team's too).
			row.Who = "Your team"
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
	case inbox.SenderIntegration:
		row.Who = "An integration, through the API"
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

// who names an event's actor: a member by name, "You", the bot …; ""
// for the system, so the sentence goes without a subject.
func (n threadNames) who(actor string) string {
	kind, id, _ := strings.Cut(actor, ":")
	switch kind {
	case "user":
		if id == n.self {
			return "You"
		}
		if name := n.members[id]; name != "" {
			return name
		}
		return "A former member"
	case "api_key":
		return "An app using an API key"
	case "flow":
		if name := n.flows[id]; name != "" {
			return "Flow “" + name + "”"
		}
		return "A flow"
	case "ai":
		return "The AI agent"
	case "page":
		return "Someone in the Page inbox"
	case "contact":
		return n.contact
	}
	return ""
}

// member names a member by ID, "you" for the reader.
func (n threadNames) member(id string) string {
	if id == n.self {
		return "you"
	}
	if name := n.members[id]; name != "" {
		return name
	}
	return "a former member"
}

// ownerNames are owners as a sentence says them.
var ownerNames = map[string]string{"bot": "the bot", "ai": "the AI agent", "human": "your team", "nobody": "nobody"}

// eventWords says what an event did, in a short sentence ("" for events
// the thread does not show: marking seen is noise to a reader).
func eventWords(e timeline.Event, n threadNames, now time.Time) string {
	who := n.who(e.Actor)
	subject := func(did, passive string) string {
		if who == "" {
			return passive
		}
		return who + " " + did
	}
	data := e.Data
	switch e.Kind {
	case timeline.KindOwner:
		switch inbox.Reason(data["reason"]) {
		case inbox.ReasonTakeover:
			return subject("took over: the bot stays quiet", "Taken over: the bot stays quiet")
		case inbox.ReasonAgentReply:
			return subject("replied, so the bot stays quiet", "A reply took over: the bot stays quiet")
		case inbox.ReasonPageEcho:
			return "Someone answered in the Page inbox: the bot stays quiet"
		case inbox.ReasonHandover:
			if data["to"] == "bot" {
				return "Messenger gave the conversation back to the bot"
			}
			return "Messenger gave the conversation to another app"
		case inbox.ReasonHandoff:
			return subject("handed the conversation to your team", "Handed to your team")
		case inbox.ReasonAssign:
			return "Assigned, so your team answers now: the bot stays quiet"
		case inbox.ReasonReturnToBot:
			return subject("returned it to the bot", "Returned to the bot")
		case inbox.ReasonSilenceTimeout:
			return "Returned to the bot: nobody on the team wrote for a while"
		case inbox.ReasonToAI:
			return subject("gave it to the AI agent", "Given to the AI agent")
		case inbox.ReasonRelease:
			return subject("turned automatic replies off", "Automatic replies turned off")
		}
		return "Now handled by " + ownerNames[data["to"]]
	case timeline.KindAssignment:
		to := data["to"]
		if to == "" {
			to = data["assignee"]
		}
		if to == "" {
			return subject("unassigned it", "Unassigned")
		}
		if who == "" {
			return "Assigned to " + n.member(to) + " automatically"
		}
		if to == n.self && e.Actor == "user:"+n.self {
			return "You assigned it to yourself"
		}
		return who + " assigned it to " + n.member(to)
	case timeline.KindTeam:
		to := data["to"]
		if to == "" {
			to = data["team"]
		}
		if to == "" {
			return subject("took it out of its team", "Out of its team")
		}
		name := n.teams[to]
		if name == "" {
			name = "a team"
		} else {
			name = "the team " + name
		}
		return subject("moved it to "+name, "Moved to "+name)
	case timeline.KindStatus:
		from, to := data["from"], data["to"]
		if to == "" {
			to = data["status"]
		}
		switch inbox.Status(to) {
		case inbox.StatusResolved:
			return subject("resolved it", "Resolved")
		case inbox.StatusPending:
			return subject("gave it to the bot", "Now with the bot")
		case inbox.StatusOpen:
			switch inbox.Status(from) {
			case inbox.StatusSnoozed:
				if who == "" {
					return "Back from snooze"
				}
				if e.Actor == "contact" {
					return n.contact + " wrote, so it is back from snooze"
				}
				return who + " woke it up"
			case inbox.StatusResolved:
				if e.Actor == "contact" {
					return n.contact + " wrote again, so it reopened"
				}
				return subject("reopened it", "Reopened")
			}
			return subject("opened it", "Opened")
		}
		return ""
	case timeline.KindSnooze:
		until, err := time.Parse(time.RFC3339, data["until"])
		if err != nil {
			return subject("snoozed it", "Snoozed")
		}
		return subject("snoozed it until "+shortTime(until, now, n.loc), "Snoozed until "+shortTime(until, now, n.loc))
	case timeline.KindHandoff:
		return subject("asked for a person", "The bot asked for a person")
	case timeline.KindFlow:
		return subject("ran", "A flow ran")
	case timeline.KindAI:
		return "The AI agent acted"
	}
	return ""
}

// mentionRE is how a note writes a mention: @[Display name](user:<uuid>).
var mentionRE = regexp.MustCompile(`@\[([^\]\n]{1,100})\]\(user:([0-9a-fA-F-]{36})\)`)

// noteRowOf is how the thread shows a note.
func noteRowOf(e timeline.Entry, n threadNames, now time.Time) noteRow {
	row := noteRow{ID: e.ID, When: clock(e.At, now)}
	if e.Note == nil {
		return row
	}
	row.Author = n.who("user:" + e.Note.AuthorID)
	if strings.HasPrefix(e.Actor, "api_key:") {
		row.Author = n.who(e.Actor)
	}
	row.Erased, row.Edited = e.Note.Erased, !e.Note.EditedAt.IsZero()
	row.Parts = noteParts(e.Note.Text, n)
	if n.canAct && !row.Erased {
		mine := e.Actor == "user:"+n.self
		row.Mine, row.CanDelete, row.Text = mine, mine || n.admin, e.Note.Text
		row.Path = conversationPath(e.WorkspaceID, e.ConversationID) + "/notes/" + e.ID
	}
	return row
}

// noteParts splits a note's text into plain runs and mentions, each
// mention shown as @Name with the member's current name.
func noteParts(text string, n threadNames) []notePart {
	var out []notePart
	last := 0
	for _, m := range mentionRE.FindAllStringSubmatchIndex(text, -1) {
		if m[0] > last {
			out = append(out, notePart{Text: text[last:m[0]]})
		}
		id := strings.ToLower(text[m[4]:m[5]])
		name := n.members[id]
		if name == "" {
			name = text[m[2]:m[3]]
		}
		out = append(out, notePart{Text: "@" + name, Mention: true, Me: id == n.self})
		last = m[1]
	}
	if last < len(text) {
		out = append(out, notePart{Text: text[last:]})
	}
	return out
}

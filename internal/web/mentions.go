package web

import (
	"net/http"
	"net/url"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/httpx"
)

// mentionsLimit is the Mentions page's page size.
const mentionsLimit = 30

func mentionsPath(wsID string) string { return conversationsPath(wsID) + "/mentions" }

// mentionsView is the reader's Mentions page: the private notes in which
// teammates mentioned them, newest first.
type mentionsView struct {
	Rows []mentionRow
	// More is the next page's address ("" for the last).
	More string
	// Base is the page's address; Unread says only unread ones are shown.
	Base   string
	Unread bool
}

// mentionRow is one note that mentions the reader.
type mentionRow struct {
	Path, Contact, Author, When string
	Parts                       []notePart
	Unread                      bool
}

// mentions lists the notes mentioning the reader; opening a conversation
// marks its mentions read.
func (d *Dashboard) mentions(w http.ResponseWriter, r *http.Request) error {
	if d.Timeline == nil {
		return httpx.NotFound("page")
	}
	p, err := d.newPage(r, "Mentions")
	if err != nil {
		return err
	}
	p.Nav = "conversations"
	ws := p.WS.ID
	v := &mentionsView{Base: mentionsPath(ws), Unread: r.URL.Query().Get("unread") == "1"}
	list, err := d.Timeline.Mentions(r.Context(), ws, p.User.ID, v.Unread, r.URL.Query().Get("cursor"), mentionsLimit+1)
	if err != nil {
		return err
	}
	if len(list) > mentionsLimit {
		list = list[:mentionsLimit]
		q := url.Values{"cursor": {list[len(list)-1].EventID}}
		if v.Unread {
			q.Set("unread", "1")
		}
		v.More = withQuery(v.Base, q)
	}
	names, err := d.memberNames(r, ws)
	if err != nil {
		return err
	}
	n := threadNames{self: p.User.ID, members: names, loc: workspaceZone(p.WS)}
	contacts := map[string]string{}
	now := d.Now()
	for _, m := range list {
		name, ok := contacts[m.ConversationID]
		if !ok {
			name = unnamed
			if c, err := d.Inbox.Conversation(r.Context(), ws, m.ConversationID); err == nil {
				if ct, err := d.Contacts.Get(r.Context(), ws, c.ContactID); err == nil {
					name = orUnnamed(ct.DisplayName())
				}
			}
			contacts[m.ConversationID] = name
		}
		row := noteRowOf(m.Note, n, now)
		v.Rows = append(v.Rows, mentionRow{Path: conversationPath(ws, m.ConversationID), Contact: name,
			Author: row.Author, When: row.When, Parts: row.Parts, Unread: m.ReadAt.IsZero()})
	}
	p.Data = v
	return d.render(w, http.StatusOK, "mentions", p)
}

// unreadMentions counts the reader's unread mentions for the list's
// Mentions link (0 when they cannot be counted: it is only a hint).
func (d *Dashboard) unreadMentions(r *http.Request, wsID string) int {
	if d.Timeline == nil {
		return 0
	}
	n, err := d.Timeline.UnreadMentions(r.Context(), wsID, access.PrincipalFrom(r.Context()).User.ID)
	if err != nil {
		d.Log.Warn("unread mentions not counted", "workspace", wsID, "err", err)
		return 0
	}
	return n
}

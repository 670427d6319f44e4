package web

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/search"
)

// searchLimit is how many contacts and how many messages the search page
// shows.
const searchLimit = 20

func searchPath(wsID string) string { return "/w/" + wsID + "/search" }

// searchView is the search page: the query, the contacts and messages it
// found, or why it found nothing.
type searchView struct {
	Q string
	// Problem says why the query was not run (too long), "" otherwise.
	Problem  string
	Ran      bool
	Contacts []searchContact
	Messages []searchMessage
	// Short is set for a one- or two-letter query, which matches only the
	// start of words.
	Short, Partial bool
}

type searchContact struct{ Name, Path string }

// searchMessage is a message hit; its snippet is cut around the match,
// which Match holds when it can be found in the snippet as typed.
type searchMessage struct {
	Contact, Path, When  string
	Before, Match, After string
}

// searchPage finds the workspace's contacts and messages (package search)
// for ?q=, from the search box at the top of every workspace page.
func (d *Dashboard) searchPage(w http.ResponseWriter, r *http.Request) error {
	p, err := d.newPage(r, "Search")
	if err != nil {
		return err
	}
	ws := p.WS.ID
	v := &searchView{Q: strings.TrimSpace(r.URL.Query().Get("q"))}
	p.Data = v
	if v.Q == "" || d.Search == nil {
		return d.render(w, http.StatusOK, "search", p)
	}
	p.Title = v.Q + " · Search"
	if utf8.RuneCountInString(v.Q) > search.MaxQueryRunes {
		v.Problem = "That is too long to search for: use at most 100 characters, such as part of a name or a few words of the message."
		return d.render(w, http.StatusUnprocessableEntity, "search", p)
	}
	if err := d.searchAllowed(r, ws); err != nil {
		return err
	}
	res, err := d.Search.Search(r.Context(), ws, v.Q, search.QueryOptions{Limit: searchLimit})
	if errors.Is(err, search.ErrInvalid) {
		v.Problem = "Type a few letters of a name, a phone number or a word from the message."
		return d.render(w, http.StatusUnprocessableEntity, "search", p)
	}
	if err != nil {
		return httpx.Internal(err)
	}
	v.Ran, v.Partial = true, res.Partial
	v.Short = utf8.RuneCountInString(search.Normalize(v.Q)) <= 2
	names := map[string]string{}
	for _, c := range res.Contacts {
		names[c.ID] = orUnnamed(c.Name)
		v.Contacts = append(v.Contacts, searchContact{Name: orUnnamed(c.Name), Path: contactPath(ws, c.ID)})
	}
	loc := workspaceZone(p.WS)
	for _, m := range res.Messages {
		name, ok := names[m.ContactID]
		if !ok {
			name = unnamed
			if c, err := d.Contacts.Get(r.Context(), ws, m.ContactID); err == nil {
				name = orUnnamed(c.DisplayName())
			}
			names[m.ContactID] = name
		}
		hit := searchMessage{Contact: name, Path: conversationPath(ws, m.ConversationID),
			When: m.At.In(loc).Format("2 Jan 2006, 15:04")}
		hit.Before, hit.Match, hit.After = markMatch(m.Snippet, v.Q)
		v.Messages = append(v.Messages, hit)
	}
	return d.render(w, http.StatusOK, "search", p)
}

// markMatch splits s around the first occurrence of q, ignoring letter
// case; when q is not in s as typed (accents, spacing), all of s is
// before.
func markMatch(s, q string) (before, match, after string) {
	ls, lq := strings.ToLower(s), strings.ToLower(q)
	// Lower-casing keeps byte offsets only when it keeps lengths.
	if len(ls) == len(s) && len(lq) == len(q) {
		if i := strings.Index(ls, lq); i >= 0 {
			return s[:i], s[i : i+len(q)], s[i+len(q):]
		}
	}
	return s, "", ""
}

// searchAllowed counts one search of the signed-in member in the workspace
// against SearchLimit and refuses it with 429 when their budget is spent.
// The key is the JSON API's for the same person ("<workspace>|user:<id>",
// api's searchAllowed): one budget on both surfaces.
func (d *Dashboard) searchAllowed(r *http.Request, ws string) error {
	if d.SearchLimit == nil {
		return nil
	}
	if ok, retry := d.SearchLimit.Allow(ws + "|user:" + access.PrincipalFrom(r.Context()).User.ID); !ok {
		return httpx.TooManyRequests(retry)
	}
	return nil
}

package metasim

import (
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
)

// fieldsOf parses ?fields=a,b,c (def when absent).
func fieldsOf(p *params, def ...string) []string {
	raw := p.get("fields")
	if raw == "" {
		return def
	}
	var out []string
	for _, f := range strings.Split(raw, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// nodeObject builds a node's answer from the requested fields in order,
// with "id" last as Graph always adds it. value reports a field's value
// and whether the node type has it at all; empty values are left out as
// Graph leaves out fields with no data.
func nodeObject(id, nodeType string, fields []string, value func(string) (any, bool)) (object, *apiError) {
	var o object
	for _, f := range fields {
		if f == "id" {
			continue
		}
		v, known := value(f)
		if !known {
			return nil, errNoField(f, nodeType)
		}
		if v == nil || v == "" {
			continue
		}
		o = append(o, field{f, v})
	}
	return append(o, field{"id", id}), nil
}

// getNode answers GET /{id} for a page, a user or a person. Callers hold
// s.mu.
func (s *Sim) getNode(c *call, n node) result {
	switch {
	case n.page != nil:
		pg := n.page
		mine := c.tok.kind == pageToken && c.tok.pageID == pg.id
		owner := c.tok.kind == userToken && c.tok.userID == pg.owner && pg.owner != ""
		if !mine && !owner {
			return fail(newErr(10, 0, "OAuthException",
				"(#10) This endpoint requires the 'pages_read_engagement' permission or the 'Page Public Content Access' feature. Refer to https://developers.facebook.com/docs/apps/review/login-permissions#manage-pages and https://developers.facebook.com/docs/apps/review/feature#reference-PAGES_ACCESS for details."))
		}
		o, e := nodeObject(pg.id, "Page", fieldsOf(&c.p, "name", "id"), func(f string) (any, bool) {
			switch f {
			case "name":
				return pg.name, true
			case "category":
				return pg.category, true
			case "link":
				return "https://www.facebook.com/" + pg.id, true
			case "access_token":
				if mine {
					return c.tok.value, true
				}
				return s.derivedPageToken(c.tok, pg), true
			}
			return nil, false
		})
		if e != nil {
			return fail(e)
		}
		return answer(o)
	case n.user != nil:
		u := n.user
		if c.tok.kind != userToken || c.tok.userID != u.id {
			return fail(errUnsupported("get", n.id))
		}
		o, e := nodeObject(u.id, "User", fieldsOf(&c.p, "name", "id"), func(f string) (any, bool) {
			if f == "name" {
				return u.name, true
			}
			return nil, false
		})
		if e != nil {
			return fail(e)
		}
		return answer(o)
	case n.person != nil:
		return s.profile(c, n.person)
	}
	return fail(errUnsupported("get", n.id))
}

// profile answers the User Profile API: GET /{psid}?fields=… with the
// token of the person's page.
func (s *Sim) profile(c *call, pr *person) result {
	if c.tok.kind != pageToken {
		return fail(errPageTokenRequired())
	}
	if c.tok.pageID != pr.pageID {
		// PSIDs are page-scoped: another page cannot see this one.
		return fail(errUnsupported("get", pr.psid))
	}
	if !c.tok.has("pages_messaging") {
		return fail(errPermission("pages_messaging"))
	}
	if pr.PhoneOnly {
		return fail(errNoProfile())
	}
	fields := fieldsOf(&c.p, "first_name", "last_name", "profile_pic", "id")
	// Validate the field names even when no profile is shared.
	o, e := nodeObject(pr.psid, "User", fields, func(f string) (any, bool) {
		switch f {
		case "name":
			return strings.TrimSpace(pr.FirstName + " " + pr.LastName), true
		case "first_name":
			return pr.FirstName, true
		case "last_name":
			return pr.LastName, true
		case "profile_pic":
			if pr.ProfilePic != "" {
				return pr.ProfilePic, true
			}
			return s.baseFor(c.r) + "/_sim/pic/" + pr.psid + ".png", true
		case "locale":
			return pr.Locale, true
		case "timezone":
			return pr.Timezone, true
		case "gender":
			return pr.Gender, true
		}
		return nil, false
	})
	if e != nil {
		return fail(e)
	}
	if pr.NoProfile {
		return answer(object{})
	}
	return answer(o)
}

// derivedPageToken returns the page token a user token yields for a page
// (through /me/accounts or ?fields=access_token): it inherits the user
// token's permissions, and its expiry when the user token is short-lived.
// A dead one is replaced. Callers hold s.mu.
func (s *Sim) derivedPageToken(ut *token, pg *page) string {
	if ut.derived == nil {
		ut.derived = map[string]string{}
	}
	if v, ok := ut.derived[pg.id]; ok {
		if t := s.tokens[v]; t != nil && t.revoked == 0 && (t.expires.IsZero() || s.now().Before(t.expires)) {
			return v
		}
	}
	t := &token{kind: pageToken, pageID: pg.id, userID: ut.userID, scopes: ut.scopes}
	if !ut.long {
		t.expires = ut.expires
	}
	v := s.newToken(t).value
	ut.derived[pg.id] = v
	return v
}

var pageTasks = []string{"ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"}

type category struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type account struct {
	AccessToken  string     `json:"access_token"`
	Category     string     `json:"category"`
	CategoryList []category `json:"category_list"`
	Name         string     `json:"name"`
	ID           string     `json:"id"`
	Tasks        []string   `json:"tasks"`
}

type cursors struct {
	Before string `json:"before"`
	After  string `json:"after"`
}

type paging struct {
	Cursors  cursors `json:"cursors"`
	Previous string  `json:"previous,omitempty"`
	Next     string  `json:"next,omitempty"`
}

type accountsPage struct {
	Data   []account `json:"data"`
	Paging *paging   `json:"paging,omitempty"`
}

func cursorFor(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(i)))
}

func cursorIndex(c string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	i, err := strconv.Atoi(string(b))
	return i, err == nil && i >= 0
}

// accounts answers GET /me/accounts: the user's pages with page tokens,
// paged with limit/after/before cursors like Graph's. As on Graph, the
// paging links carry the access token in their query string.
func (s *Sim) accounts(c *call, u *user) result {
	if !c.tok.has("pages_show_list") {
		return answer(accountsPage{Data: []account{}})
	}
	limit := 25
	if l := c.p.get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			return fail(paramErr("Param limit must be a positive integer"))
		}
		limit = min(n, 100)
	}
	start := 0
	if a := c.p.get("after"); a != "" {
		i, ok := cursorIndex(a)
		if !ok {
			return fail(paramErr("Invalid cursor: after"))
		}
		start = i + 1
	} else if b := c.p.get("before"); b != "" {
		i, ok := cursorIndex(b)
		if !ok {
			return fail(paramErr("Invalid cursor: before"))
		}
		start = max(0, i-limit)
	}
	all := u.pages
	res := accountsPage{Data: []account{}}
	end := min(start+limit, len(all))
	for i := start; i < end; i++ {
		pg := s.pages[all[i]]
		res.Data = append(res.Data, account{
			AccessToken:  s.derivedPageToken(c.tok, pg),
			Category:     pg.category,
			CategoryList: []category{{ID: "2500", Name: pg.category}},
			Name:         pg.name,
			ID:           pg.id,
			Tasks:        pageTasks,
		})
	}
	if start < end {
		link := func(param string, at int) string {
			q := url.Values{"access_token": {c.tok.value}, "limit": {strconv.Itoa(limit)}, param: {cursorFor(at)}}
			return s.baseFor(c.r) + "/" + s.version + "/" + u.id + "/accounts?" + q.Encode()
		}
		pg := &paging{Cursors: cursors{Before: cursorFor(start), After: cursorFor(end - 1)}}
		if end < len(all) {
			pg.Next = link("after", end-1)
		}
		if start > 0 {
			pg.Previous = link("before", start)
		}
		res.Paging = pg
	}
	return answer(res)
}

package metasim

import (
	"crypto/hmac"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
)

// idMatching is what Meta's ID matching knows: which Facebook user is
// behind a page-scoped ID, and which Pages belong to the same Business
// Manager as the app (ID matching answers only for those). Guarded by
// Sim.mu; the maps are created on first use.
type idMatching struct {
	personUser    map[string]string // PSID → user ID
	businessPages map[string]bool   // page ID → in the app's business
}

// LinkPerson says that the person psid on pageID is the Facebook user
// userID, which is what lets GET /{user-id}/ids_for_pages name the PSID.
// It reports whether both exist.
func (s *Sim) LinkPerson(userID, pageID, psid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[userID] == nil || s.personOf(pageID, psid) == nil {
		return false
	}
	if s.personUser == nil {
		s.personUser = map[string]string{}
	}
	s.personUser[psid] = userID
	return true
}

// SetBusinessPage puts the page in (or out of) the Business Manager that
// owns the app: ID matching answers only for Pages in it, as on Meta. It
// reports whether the page exists.
func (s *Sim) SetBusinessPage(pageID string, in bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pages[pageID] == nil {
		return false
	}
	if s.businessPages == nil {
		s.businessPages = map[string]bool{}
	}
	s.businessPages[pageID] = in
	return true
}

// isIDsForPages reports a GET /{user-id}/ids_for_pages path.
func isIDsForPages(segs []string) bool { return len(segs) == 2 && segs[1] == "ids_for_pages" }

type pageRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type pageScopedID struct {
	ID   string  `json:"id"`
	Page pageRef `json:"page"`
}

// idsForPages answers GET /{user-id}/ids_for_pages: the PSIDs the user
// has on Pages of the app's business, optionally only on the Page of the
// page parameter. It takes the app access token ("app-id|app-secret"),
// with appsecret_proof unless NoProof, as the callers of Meta's endpoint
// use it; paging by limit (default and most 100) and an "after" cursor.
// Callers hold s.mu.
func (s *Sim) idsForPages(c *call) result {
	value, src := tokenFrom(c.r, &c.p)
	c.rec.TokenSource = src
	switch {
	case value == "":
		return fail(errNoToken())
	case !hmac.Equal([]byte(value), []byte(s.appID+"|"+s.appSecret)):
		return fail(errBadToken())
	}
	if proof := c.p.get("appsecret_proof"); proof != "" {
		got, err := hex.DecodeString(proof)
		want, _ := hex.DecodeString(AppSecretProof(s.appSecret, value))
		if err != nil || !hmac.Equal(got, want) {
			return fail(errProofInvalid())
		}
		c.rec.ProofOK = true
	} else if !s.noProof {
		return fail(errProofMissing())
	}
	if c.r.Method != http.MethodGet {
		return fail(errUnsupported("post", c.segs[0]))
	}
	u := s.users[c.segs[0]]
	if u == nil {
		return fail(errUnsupported("get", c.segs[0]))
	}
	c.rec.UserID = u.id
	only := c.p.get("page")
	var all []pageScopedID
	for psid, uid := range s.personUser {
		pr := s.psids[psid]
		if uid != u.id || pr == nil || !s.businessPages[pr.pageID] || (only != "" && pr.pageID != only) {
			continue
		}
		pg := s.pages[pr.pageID]
		all = append(all, pageScopedID{ID: psid, Page: pageRef{ID: pg.id, Name: pg.name}})
	}
	slices.SortFunc(all, func(a, b pageScopedID) int {
		if a.Page.ID != b.Page.ID {
			if a.Page.ID < b.Page.ID {
				return -1
			}
			return 1
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	limit := 100
	if n, err := strconv.Atoi(c.p.get("limit")); err == nil && n > 0 && n < limit {
		limit = n
	}
	start := 0
	if n, err := strconv.Atoi(c.p.get("after")); err == nil && n > 0 && n <= len(all) {
		start = n
	}
	end := min(start+limit, len(all))
	page := all[start:end]
	if page == nil {
		page = []pageScopedID{}
	}
	body := map[string]any{"data": page}
	if end < len(all) {
		next := strconv.Itoa(end)
		body["paging"] = map[string]any{
			"cursors": map[string]string{"before": strconv.Itoa(start), "after": next},
			"next":    s.baseFor(c.r) + "/" + s.version + "/" + u.id + "/ids_for_pages?limit=" + strconv.Itoa(limit) + "&after=" + next,
		}
	}
	return answer(body)
}

package metasim

import (
	"encoding/json"
	"fmt"
	"time"
)

// User is a simulated Facebook user: someone who can log in through the
// dialog and owns pages.
type User struct {
	ID, Name string
}

// Page is a simulated Facebook Page and its long-lived Page access token.
type Page struct {
	ID, Name, Token string
}

// Person is a simulated Messenger user who talks to one page; it is known
// to that page by a page-scoped ID (PSID).
type Person struct {
	FirstName, LastName, Locale, ProfilePic string
	// Timezone (hours from UTC) and Gender answer the optional profile
	// fields of the same names.
	Timezone float64
	Gender   string
	// NoProfile makes the User Profile API answer {} (no access).
	NoProfile bool
	// PhoneOnly makes the User Profile API answer error 2018218.
	PhoneOnly bool
	// Unreachable makes sends to this person fail with 551/1545041 (the
	// person blocked the page or deactivated their account).
	Unreachable bool
}

type tokenKind int

const (
	userToken tokenKind = iota + 1
	pageToken
)

// token is one access token. Page tokens derived from a user token (via
// /me/accounts) inherit its scopes and its expiry.
type token struct {
	value   string
	kind    tokenKind
	userID  string
	pageID  string
	expires time.Time // zero: never
	revoked int       // error_subcode once invalidated (460, 463…), else 0
	// scopes granted by the login dialog; nil means every permission (a
	// token handed out by the test itself).
	scopes map[string]bool
	// derived page tokens of a user token, by page ID.
	derived map[string]string
	long    bool // long-lived user token
}

func (t *token) has(scope string) bool { return t.scopes == nil || t.scopes[scope] }

type user struct {
	id, name string
	pages    []string // page IDs, in creation order
}

type page struct {
	id, name, owner, category string
	token                     string // canonical long-lived page token
	people                    map[string]*person
	subscribed                []string // subscribed_fields; nil: app not subscribed
	profile                   map[string]json.RawMessage
	attachments               map[string]attachment
	mids                      map[string]string // known message IDs → PSID (reply_to)
}

type attachment struct{ typ, url string }

type person struct {
	psid, pageID string
	Person
	lastInbound time.Time
}

// world is the simulated social graph. Guarded by Sim.mu.
type world struct {
	users  map[string]*user
	order  []string // user IDs in creation order (the login dialog lists them so)
	pages  map[string]*page
	tokens map[string]*token
	psids  map[string]*person
	codes  map[string]*authCode
}

func (w *world) init() {
	w.users = map[string]*user{}
	w.pages = map[string]*page{}
	w.tokens = map[string]*token{}
	w.psids = map[string]*person{}
	w.codes = map[string]*authCode{}
}

// newID returns an unused object ID of n digits.
func (w *world) newID(n int) string {
	for {
		id := randDigits(n)
		if w.users[id] == nil && w.pages[id] == nil && w.psids[id] == nil {
			return id
		}
	}
}

func (w *world) newToken(t *token) *token {
	t.value = randToken()
	w.tokens[t.value] = t
	return t
}

// AddUser creates a Facebook user who can log in through the dialog and
// own pages.
func (s *Sim) AddUser(name string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &user{id: s.newID(15), name: name}
	s.users[u.id] = u
	s.order = append(s.order, u.id)
	return User{ID: u.id, Name: u.name}
}

// UserToken returns a fresh long-lived user access token for userID with
// every permission, as if the user had logged in; "" for an unknown user.
func (s *Sim) UserToken(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[userID] == nil {
		return ""
	}
	t := s.newToken(&token{kind: userToken, userID: userID, long: true})
	return t.value
}

// AddPage creates a page owned by the user ownerID ("" for a page nobody
// can log in to manage) with a long-lived Page access token. It panics if
// ownerID names no user: that is a mistake in the test's setup.
func (s *Sim) AddPage(ownerID, name string) Page {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addPage(ownerID, s.newID(15), name, "")
}

// RestorePage recreates a page with a known ID and token (the simulator
// keeps its world in memory; an application restarting with pages it
// connected earlier puts them back). An existing page is renamed and its
// token replaced.
func (s *Sim) RestorePage(ownerID, pageID, name, tok string) Page {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pg := s.pages[pageID]; pg != nil {
		pg.name = name
		if tok != "" && tok != pg.token {
			s.tokens[tok] = &token{value: tok, kind: pageToken, pageID: pageID}
			pg.token = tok
		}
		return Page{ID: pg.id, Name: pg.name, Token: pg.token}
	}
	return s.addPage(ownerID, pageID, name, tok)
}

func (s *Sim) addPage(ownerID, id, name, tok string) Page {
	if ownerID != "" && s.users[ownerID] == nil {
		panic(fmt.Sprintf("metasim: AddPage: no user %q", ownerID))
	}
	pg := &page{
		id: id, name: name, owner: ownerID, category: "Business",
		people:      map[string]*person{},
		profile:     map[string]json.RawMessage{},
		attachments: map[string]attachment{},
		mids:        map[string]string{},
	}
	if tok == "" {
		pg.token = s.newToken(&token{kind: pageToken, pageID: id}).value
	} else {
		s.tokens[tok] = &token{value: tok, kind: pageToken, pageID: id}
		pg.token = tok
	}
	s.pages[id] = pg
	if ownerID != "" {
		s.users[ownerID].pages = append(s.users[ownerID].pages, id)
	}
	return Page{ID: pg.id, Name: pg.name, Token: pg.token}
}

// PageToken returns the page's canonical long-lived Page access token, with
// every permission ("" for an unknown page). After InvalidateToken it
// still returns the dead token; logging in again (dialog, /me/accounts)
// yields fresh page tokens.
func (s *Sim) PageToken(pageID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pg := s.pages[pageID]; pg != nil {
		return pg.token
	}
	return ""
}

// InvalidateToken kills an access token, as a password change or a
// removed app does: every later call with it fails with error 190,
// subcode 460. Unknown tokens are ignored.
func (s *Sim) InvalidateToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tokens[tok]; t != nil {
		t.revoked = 460
	}
}

// ExpireToken makes an access token expire now: later calls fail with
// error 190, subcode 463.
func (s *Sim) ExpireToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tokens[tok]; t != nil {
		t.expires = s.now()
	}
}

// AddPerson creates a Messenger user who can talk to the page and returns
// their PSID ("" for an unknown page).
func (s *Sim) AddPerson(pageID string, p Person) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	pg := s.pages[pageID]
	if pg == nil {
		return ""
	}
	return s.addPerson(pg, s.newID(16), p)
}

// RestorePerson recreates a person with a known PSID on a page (see
// RestorePage); an existing person's details are replaced. It does
// nothing for an unknown page.
func (s *Sim) RestorePerson(pageID, psid string, p Person) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pg := s.pages[pageID]
	if pg == nil {
		s.log.Warn("metasim: restore person: unknown page", "page", pageID)
		return
	}
	if old := pg.people[psid]; old != nil {
		old.Person = p
		return
	}
	s.addPerson(pg, psid, p)
}

func (s *Sim) addPerson(pg *page, psid string, p Person) string {
	pr := &person{psid: psid, pageID: pg.id, Person: p}
	pg.people[psid] = pr
	s.psids[psid] = pr
	return psid
}

// SetUnreachable changes whether sends to the person fail with 551
// (blocked the page, deactivated). It reports whether the person exists.
func (s *Sim) SetUnreachable(pageID, psid string, unreachable bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.personOf(pageID, psid)
	if pr == nil {
		return false
	}
	pr.Unreachable = unreachable
	return true
}

// LastInbound returns when the person last did something that opens the
// messaging window (message, postback, referral, reaction, opt-in) in a
// webhook the simulator delivered; zero if never.
func (s *Sim) LastInbound(pageID, psid string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pr := s.personOf(pageID, psid); pr != nil {
		return pr.lastInbound
	}
	return time.Time{}
}

func (s *Sim) personOf(pageID, psid string) *person {
	if pg := s.pages[pageID]; pg != nil {
		return pg.people[psid]
	}
	return nil
}

// noteInbound opens (or extends) the person's messaging window.
func (pr *person) noteInbound(at time.Time) {
	if at.After(pr.lastInbound) {
		pr.lastInbound = at
	}
}

package metasim

import (
	"crypto/hmac"
	"encoding/hex"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// maxBody caps request bodies (attachment uploads are the largest; Meta
// allows 25 MB files).
const maxBody = 32 << 20

// call is one Graph request being served.
type call struct {
	r     *http.Request
	path  string   // URL path as received
	segs  []string // path segments after the version
	body  []byte
	p     params
	tok   *token
	rec   Call
	after []func() // run once s.mu is released: echoes, OnSend
}

// result is what a handler answers: a JSON value, an error, or raw HTML /
// a redirect for the login dialog.
type result struct {
	status   int
	body     any
	err      *apiError
	html     []byte
	redirect string
}

func answer(body any) result  { return result{status: http.StatusOK, body: body} }
func fail(e *apiError) result { return result{err: e} }
func success() result {
	return answer(struct {
		Success bool `json:"success"`
	}{true})
}
func profileSuccess() result {
	return answer(struct {
		Result string `json:"result"`
	}{"success"})
}
func isVersion(s string) bool { return versionRE.MatchString(s) }

var versionRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

// authenticate checks the call's token and appsecret_proof the way Graph
// does. Callers hold s.mu.
func (s *Sim) authenticate(c *call) *apiError {
	value, src := tokenFrom(c.r, &c.p)
	c.rec.TokenSource = src
	if value == "" {
		return errNoToken()
	}
	t := s.tokens[value]
	if t == nil {
		return errBadToken()
	}
	c.rec.PageID, c.rec.UserID = t.pageID, t.userID
	if t.revoked != 0 {
		return errRevoked(t.revoked)
	}
	if now := s.now(); !t.expires.IsZero() && !now.Before(t.expires) {
		return errExpired(t.expires, now)
	}
	// A proof that is present is always checked, even when not required.
	if proof := c.p.get("appsecret_proof"); proof != "" {
		got, err := hex.DecodeString(proof)
		want, _ := hex.DecodeString(AppSecretProof(s.appSecret, value))
		if err != nil || !hmac.Equal(got, want) {
			return errProofInvalid()
		}
		c.rec.ProofOK = true
	} else if !s.noProof {
		return errProofMissing()
	}
	c.tok = t
	return nil
}

func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.serveControl(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	c := &call{r: r, path: r.URL.Path, body: body}
	c.rec = Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body}

	s.mu.Lock()
	c.rec.At = s.now()
	var res result
	if err != nil {
		res = fail(paramErr("The request body is too large"))
	} else {
		res = s.route(c)
	}
	status := res.status
	if res.err != nil {
		status = res.err.status
		c.rec.ErrorCode = res.err.code
	}
	if status == 0 {
		status = http.StatusOK
	}
	c.rec.Status = status
	s.calls = append(s.calls, c.rec)
	delay := s.latencyFor(c.path)
	s.bump()
	s.mu.Unlock()

	for _, fn := range c.after {
		fn()
	}
	s.hold(r.Context(), delay)
	s.write(w, res, status)
}

func (s *Sim) write(w http.ResponseWriter, res result, status int) {
	h := w.Header()
	trace := randTrace()
	h.Set("x-fb-trace-id", trace)
	h.Set("facebook-api-version", s.version)
	switch {
	case res.redirect != "":
		h.Set("Location", res.redirect)
		w.WriteHeader(http.StatusFound)
		return
	case res.html != nil:
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		w.Write(res.html)
		return
	}
	var b []byte
	if res.err != nil {
		if res.err.typ == "OAuthException" {
			kind := "invalid_request"
			if res.err.code == 190 {
				kind = "invalid_token"
			}
			h.Set("WWW-Authenticate", `OAuth "Facebook Platform" "`+kind+`" "`+strings.ReplaceAll(res.err.message, `"`, `'`)+`"`)
		}
		b, _ = MetaJSON(res.err.body(trace))
	} else {
		b, _ = MetaJSON(res.body)
	}
	h.Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	w.Write(b)
}

// route dispatches a Graph call. Callers hold s.mu.
func (s *Sim) route(c *call) result {
	segs := strings.Split(strings.Trim(c.path, "/"), "/")
	if len(segs) > 0 && isVersion(segs[0]) {
		segs = segs[1:]
	}
	if len(segs) == 1 && segs[0] == "" {
		segs = nil
	}
	c.segs = segs
	p, perr := parseParams(c.r, c.body)
	c.p = p
	switch {
	case match(segs, "dialog", "oauth"):
		return s.dialog(c)
	case match(segs, "dialog", "oauth", "confirm"):
		return s.dialogConfirm(c)
	case match(segs, "oauth", "access_token"):
		if perr != nil {
			return fail(perr)
		}
		if e := s.injected(c.path, ""); e != nil {
			return fail(e)
		}
		return s.accessToken(c)
	}
	if perr != nil {
		return fail(perr)
	}
	if isIDsForPages(segs) {
		// Meta's ID matching takes the app token (idmatching.go).
		return s.idsForPages(c)
	}
	if e := s.authenticate(c); e != nil {
		return fail(e)
	}
	if len(segs) == 0 || len(segs) > 2 {
		return fail(errUnknownPath("/" + strings.Join(segs, "/")))
	}
	n := s.resolve(segs[0], c.tok)
	injectPage := c.tok.pageID
	if n.page != nil {
		injectPage = n.page.id
	}
	if e := s.injected(c.path, injectPage); e != nil {
		return fail(e)
	}
	method := strings.ToLower(c.r.Method)
	if len(segs) == 1 {
		if c.r.Method != http.MethodGet {
			return fail(errUnsupported(method, segs[0]))
		}
		return s.getNode(c, n)
	}
	return s.edge(c, n, segs[1])
}

func match(segs []string, want ...string) bool {
	if len(segs) != len(want) {
		return false
	}
	for i := range want {
		if segs[i] != want[i] {
			return false
		}
	}
	return true
}

// node is the object a path names: a page, a user or a person (PSID).
type node struct {
	id     string
	page   *page
	user   *user
	person *person
}

// resolve finds the object a path segment names; "me" is the token's
// page or user. Callers hold s.mu.
func (s *Sim) resolve(seg string, t *token) node {
	if seg == "me" {
		if t.kind == pageToken {
			return node{id: t.pageID, page: s.pages[t.pageID]}
		}
		return node{id: t.userID, user: s.users[t.userID]}
	}
	n := node{id: seg}
	n.page = s.pages[seg]
	n.user = s.users[seg]
	n.person = s.psids[seg]
	return n
}

// edge dispatches /{node}/{edge}. Callers hold s.mu.
func (s *Sim) edge(c *call, n node, edge string) result {
	method := c.r.Method
	switch {
	case n.page != nil:
		if !knownPageEdge(edge) {
			return fail(errNoField(edge, "Page"))
		}
		// Page edges need that page's own token.
		if c.tok.kind != pageToken {
			return fail(errPageTokenRequired())
		}
		if c.tok.pageID != n.page.id {
			return fail(errUnsupported(strings.ToLower(method), n.id))
		}
		switch edge {
		case "messages":
			if method == http.MethodPost {
				return s.send(c, n.page)
			}
		case "subscribed_apps":
			switch method {
			case http.MethodGet:
				return s.getSubscribedApps(n.page)
			case http.MethodPost:
				return s.subscribeApp(c, n.page)
			case http.MethodDelete:
				return s.unsubscribeApp(c, n.page)
			}
		case "messenger_profile":
			switch method {
			case http.MethodGet:
				return s.getMessengerProfile(c, n.page)
			case http.MethodPost:
				return s.setMessengerProfile(c, n.page)
			case http.MethodDelete:
				return s.deleteMessengerProfile(c, n.page)
			}
		case "message_attachments":
			if method == http.MethodPost {
				return s.uploadAttachment(c, n.page)
			}
		case "pass_thread_control", "take_thread_control", "request_thread_control":
			if method == http.MethodPost {
				return s.handover(c, n.page, edge)
			}
		}
		return fail(errUnsupported(strings.ToLower(method), n.id))
	case n.user != nil:
		if edge != "accounts" {
			return fail(errNoField(edge, "User"))
		}
		if c.tok.kind != userToken || c.tok.userID != n.user.id {
			return fail(errUnsupported(strings.ToLower(method), n.id))
		}
		if method != http.MethodGet {
			return fail(errUnsupported(strings.ToLower(method), n.id))
		}
		return s.accounts(c, n.user)
	case n.person != nil:
		return fail(errUnsupported(strings.ToLower(method), n.id))
	}
	return fail(errUnknownPath("/" + strings.Join(c.segs, "/")))
}

func knownPageEdge(e string) bool {
	switch e {
	case "messages", "subscribed_apps", "messenger_profile", "message_attachments",
		"pass_thread_control", "take_thread_control", "request_thread_control":
		return true
	}
	return false
}

// baseFor is the simulator's base URL as the client reached it, for
// links it builds (paging, profile pictures).
func (s *Sim) baseFor(r *http.Request) string {
	if s.baseURL != "" {
		return s.baseURL
	}
	return "http://" + r.Host
}

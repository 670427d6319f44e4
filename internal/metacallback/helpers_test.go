package metacallback

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/channel/connect"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/meta"
	"github.com/parleyhq/parley/internal/metasim"
	"github.com/parleyhq/parley/internal/testutil/fakeclock"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

const (
	baseURL     = "https://parley.example"
	redirectURL = "https://parley.example/channels/messenger/callback"
)

type clock = fakeclock.Clock

// fakeEraser stands in for package erasure: it records what it was asked
// to erase and deletes the contact row (which takes its identity-map row
// with it, as the real erasure does).
type fakeEraser struct {
	d      *db.DB
	mu     sync.Mutex
	erased []string
}

func (f *fakeEraser) EraseContact(ctx context.Context, a audit.Actor, ws, id string) error {
	err := db.OneRow(f.d.W.NewRaw(`DELETE FROM contacts WHERE workspace_id = ? AND id = ?`, ws, id).Exec(ctx))
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.erased = append(f.erased, id)
	f.mu.Unlock()
	return nil
}

func (f *fakeEraser) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.erased...)
}

// env is a Service over a fresh database, the Meta simulator, the real
// channel store, contacts and Facebook Login (package connect).
type env struct {
	d        *db.DB
	clock    *clock
	sim      *metasim.Sim
	srv      *httptest.Server
	master   *keyring.Master
	kr       *keyring.Keyring
	graph    *meta.Client
	channels *channel.Store
	contacts *contact.Store
	connect  *connect.Service
	q        *job.Queue
	eraser   *fakeEraser
	svc      *Service
	handler  http.Handler
}

func setup(t *testing.T, d *db.DB) *env {
	t.Helper()
	m, err := keyring.NewMaster(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{d: d, clock: fakeclock.New(t0), master: m}
	e.sim = metasim.New(metasim.Options{Now: e.clock.Now, NoRetries: true})
	e.srv = httptest.NewServer(e.sim.Handler())
	t.Cleanup(e.srv.Close)
	t.Cleanup(e.sim.Close)
	e.kr = keyring.New(d, m, keyring.Options{Now: e.clock.Now})
	e.graph = meta.New(meta.Options{GraphURL: e.srv.URL, DialogURL: e.srv.URL, AppID: e.sim.AppID(), AppSecret: e.sim.AppSecret()})
	e.channels = channel.NewStore(d, e.kr, e.clock.Now)
	e.contacts = contact.NewStore(d, e.kr, e.clock.Now)
	e.q = job.New(d, job.Options{Now: e.clock.Now})
	e.eraser = &fakeEraser{d: d}
	e.svc = e.service(e.sim.AppSecret(), nil)
	e.connect = connect.New(d, e.kr, e.graph, e.channels, connect.Options{
		Now: e.clock.Now, StateKey: m.Derive("channel-login-state"), RedirectURL: redirectURL, Identities: e.svc,
	})
	e.svc.opt.Disconnect = e.connect
	e.svc.Register(e.q)
	e.handler = e.mux(e.svc)
	return e
}

// service builds a Service of the env with another secret or limiter.
func (e *env) service(secret string, lim *httpx.Limiter) *Service {
	s := New(e.d, Options{
		Now: e.clock.Now, AppSecret: secret, BaseURL: baseURL, Master: e.master, Queue: e.q,
		Disconnect: e.connect, Eraser: e.eraser, Matcher: e.graph, Channels: e.channels, Contacts: e.contacts,
		Limiter: lim,
	})
	return s
}

// mux serves the Service's routes as the app does (without the guard).
func (e *env) mux(s *Service) http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, httpx.Serve(slog.Default(), httpx.WriteError, rt.Handler))
	}
	return mux
}

// post sends a callback body and returns the status and body.
func post(t *testing.T, h http.Handler, path, contentType, body string) (int, []byte) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.Bytes()
}

// callback posts signed_request as Meta does.
func (e *env) callback(t *testing.T, path, sr string) (int, []byte) {
	t.Helper()
	return post(t, e.handler, path, "application/x-www-form-urlencoded", url.Values{"signed_request": {sr}}.Encode())
}

// signed signs payload with the simulator's app secret.
func (e *env) signed(t *testing.T, payload any) string {
	t.Helper()
	sr, err := e.sim.SignedRequest(payload)
	if err != nil {
		t.Fatal(err)
	}
	return sr
}

func (e *env) deletionRequest(t *testing.T, asid string) string {
	return e.signed(t, map[string]any{"algorithm": "HMAC-SHA256", "issued_at": t0.Unix(), "user_id": asid})
}

// answer decodes the deletion callback's answer, checking it has exactly
// the two fields Meta expects.
func answer(t *testing.T, b []byte) deletionAnswer {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	if len(raw) != 2 || raw["url"] == nil || raw["confirmation_code"] == nil {
		t.Fatalf("answer %s: want exactly url and confirmation_code", b)
	}
	var a deletionAnswer
	json.Unmarshal(b, &a)
	return a
}

// runJobs runs this package's queued jobs as the queue would, in order,
// deleting each that succeeds, and returns how many ran.
func (e *env) runJobs(t *testing.T) int {
	t.Helper()
	ctx := context.Background()
	var jobs []job.Job
	if err := e.d.R.NewRaw(`SELECT id, kind, payload FROM jobs WHERE kind IN (?, ?) ORDER BY id`, KindDeletion, KindDeauthorize).Scan(ctx, &jobs); err != nil {
		t.Fatal(err)
	}
	for i := range jobs {
		j := &jobs[i]
		var err error
		switch j.Kind {
		case KindDeletion:
			err = e.svc.runDeletion(ctx, j)
		case KindDeauthorize:
			err = e.svc.runDeauthorize(ctx, j)
		}
		if err != nil {
			t.Fatalf("job %s: %v", j.Kind, err)
		}
		if _, err := e.d.W.NewRaw(`DELETE FROM jobs WHERE id = ?`, j.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return len(jobs)
}

// workspace creates a workspace with its key; user a user.
func (e *env) workspace(t *testing.T) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	err := e.d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`INSERT INTO workspaces (id, name, plan, created_at, updated_at) VALUES (?, 'Test', 'trial', ?, ?)`,
			id, t0, t0).Exec(ctx); err != nil {
			return err
		}
		return e.kr.CreateWorkspaceKey(ctx, tx, id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (e *env) user(t *testing.T) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	_, err := e.d.W.NewRaw(`INSERT INTO users (id, email, email_key, password_hash, age_confirmed_at, password_changed_at, created_at, updated_at)
		VALUES (?, ?, ?, 'x', ?, ?, ?, ?)`, id, id+"@example.com", id+"@example.com", t0, t0, t0, t0).Exec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

var (
	formRE   = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)">(.*?)</form>`)
	inputRE  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	buttonRE = regexp.MustCompile(`<button type="submit">([^<]+)</button>`)
	noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
)

func unescapeHTML(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// login connects pages to ws through Facebook Login as the simulator's
// user fbName, for the member userID, as a browser would click through.
func (e *env) login(t *testing.T, ws, userID, fbName string, pageIDs ...string) []channel.Channel {
	t.Helper()
	ctx := context.Background()
	dialog, err := e.connect.BeginLogin(ctx, ws, userID)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(dialog)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var loc *url.URL
	for _, m := range formRE.FindAllStringSubmatch(string(page), -1) {
		if b := buttonRE.FindStringSubmatch(m[2]); b == nil || b[1] != "Continue as "+fbName {
			continue
		}
		form := url.Values{}
		for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
			form.Set(in[1], unescapeHTML(in[2]))
		}
		r, err := noFollow.PostForm(e.srv.URL+unescapeHTML(m[1]), form)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if loc, err = url.Parse(r.Header.Get("Location")); err != nil {
			t.Fatal(err)
		}
	}
	if loc == nil {
		t.Fatalf("no Continue as %s in the dialog", fbName)
	}
	ws2, loginID, err := e.connect.FinishLogin(ctx, userID, loc.Query().Get("state"), loc.Query().Get("code"))
	if err != nil || ws2 != ws {
		t.Fatalf("finish login: %v", err)
	}
	chs, err := e.connect.ConnectPages(ctx, audit.Actor{UserID: userID}, ws, userID, loginID, pageIDs)
	if err != nil {
		t.Fatal(err)
	}
	return chs
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.R.NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *env) channel(t *testing.T, ws, id string) channel.Channel {
	t.Helper()
	ch, err := e.channels.Get(context.Background(), ws, id)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// unsubscribed counts the simulator's DELETE /{page}/subscribed_apps calls.
func (e *env) unsubscribed(pageID string) int {
	n := 0
	for _, c := range e.sim.Calls() {
		if c.Method == http.MethodDelete && strings.HasSuffix(c.Path, "/"+pageID+"/subscribed_apps") && c.Status == 200 {
			n++
		}
	}
	return n
}

func metasimPerson() metasim.Person { return metasim.Person{FirstName: "Canary", LastName: "Person"} }

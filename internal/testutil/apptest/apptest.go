package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/testutil/fakeclock"
)

// Clock is the app's settable clock.
type Clock = fakeclock.Clock

// NewClock starts at t (in UTC).
func NewClock(t time.Time) *Clock { return fakeclock.New(t.UTC()) }

// App is a running Parley under test.
type App struct {
	*app.App
	Server *httptest.Server
	Clock  *Clock
	// Logs holds everything the app logged, for leak tests.
	Logs *SyncBuffer
}

// Option adjusts the app before it is built.
type Option func(*settings)

type settings struct {
	limits  *access.Limits
	cfg     func(*config.Config)
	started bool
}

// WithLimits sets authentication rate limits (the default for tests is
// generous so that tests signing up many users are not throttled).
func WithLimits(l access.Limits) Option { return func(s *settings) { s.limits = &l } }

// WithConfig edits the config before the app is built.
func WithConfig(f func(*config.Config)) Option { return func(s *settings) { s.cfg = f } }

// Started also starts the job workers.
func Started() Option { return func(s *settings) { s.started = true } }

// New boots Parley on d behind a loopback server. Everything stops when the
// test ends.
func New(t testing.TB, d *db.DB, opts ...Option) *App {
	t.Helper()
	var s settings
	for _, o := range opts {
		o(&s)
	}
	clock := NewClock(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	a := &App{Clock: clock, Logs: &SyncBuffer{}}
	var handler http.Handler = http.NotFoundHandler()
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(a.Server.Close)

	key := make([]byte, 32)
	rand.Read(key)
	env := map[string]string{
		"PARLEY_DATA_DIR":    t.TempDir(),
		"PARLEY_BASE_URL":    a.Server.URL,
		"PARLEY_BCRYPT_COST": "4",
		"PARLEY_LOG_LEVEL":   "debug",
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MasterKey = key
	if s.cfg != nil {
		s.cfg(cfg)
	}
	limits := s.limits
	if limits == nil {
		l := Generous(clock.Now)
		limits = &l
	}
	log := slog.New(slog.NewJSONHandler(a.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a.App, err = app.New(context.Background(), cfg, app.Options{Log: log, Now: clock.Now, DB: d, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	handler = a.Handler
	a.Listening(a.Server.URL)
	if s.started {
		if err := a.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.Close(ctx)
	})
	return a
}

// Generous limits keep tests that sign up many users from being throttled.
func Generous(now func() time.Time) access.Limits {
	return access.Limits{
		LoginPerIP:      httpx.NewLimiter(10000, time.Minute, now),
		LoginPerAccount: httpx.NewLimiter(10000, time.Minute, now),
		SignupPerIP:     httpx.NewLimiter(10000, time.Minute, now),
		TwoFactor:       httpx.NewLimiter(10000, time.Minute, now),
	}
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Client is an HTTP client with its own cookie jar, like one browser.
type Client struct {
	t    testing.TB
	base string
	HTTP *http.Client
	// Header is added to every request (Authorization for API keys, say).
	Header http.Header
}

// Client returns a new client with an empty cookie jar.
func (a *App) Client(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, base: a.Server.URL, HTTP: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, Header: http.Header{}}
}

// Response is a finished request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// ErrorCode returns error.code of an error body, or "".
func (r *Response) ErrorCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// Do sends body (marshalled to JSON unless it is a string or []byte, sent
// as is) and reads the whole response.
func (c *Client) Do(method, path string, body any) *Response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	return c.Send(req)
}

// Send sends a prepared request.
func (c *Client) Send(req *http.Request) *Response {
	c.t.Helper()
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Cookie returns the named cookie the jar holds for the app, or nil.
func (c *Client) Cookie(name string) *http.Cookie {
	u, _ := url.Parse(c.base)
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// Must fails the test unless the response has status want.
func (r *Response) Must(t testing.TB, want int) *Response {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	return r
}

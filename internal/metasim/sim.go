package metasim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultVersion is the Graph API version the simulator advertises when
// Options.Version is empty. Requests may use any vNN.N prefix, as on Meta.
const DefaultVersion = "v23.0"

// Options configures a Sim. The zero value is a working simulator: random
// app credentials, Graph version v23.0, appsecret_proof required on every
// call, message echoes on, webhook retries on.
type Options struct {
	// AppID and AppSecret identify the simulated Meta app. Random when
	// empty (the ID is a string of digits, as Meta's are).
	AppID, AppSecret string
	// AppName is what GET /{page-id}/subscribed_apps reports.
	AppName string
	// Version is the Graph API version printed in URLs the simulator
	// builds (paging links). Default DefaultVersion.
	Version string
	// WebhookURL is where webhooks are POSTed (Parley's /webhooks/meta).
	// It may be set later with SetWebhookURL.
	WebhookURL string
	// NoProof turns off "Require App Secret": appsecret_proof becomes
	// optional (a wrong one is still refused, as on Meta).
	NoProof bool
	// NoEchoes stops the message_echoes webhook that follows every
	// successful Send API call.
	NoEchoes bool
	// NoRetries stops redelivering webhooks that Parley did not accept.
	NoRetries bool
	// RetryDelays is the redelivery schedule after a failed webhook POST:
	// Meta retries for hours; tests want it compressed. Default 50 ms,
	// 200 ms, 1 s, after which the delivery is given up (Failures).
	RetryDelays []time.Duration
	// WebhookTimeout bounds each webhook POST. Default 5 s, the budget
	// Meta gives Messenger webhooks.
	WebhookTimeout time.Duration
	// EnforceSubscriptions sends events (and echoes) only for pages
	// subscribed to the event's field through POST /{page-id}/subscribed_apps,
	// as Meta does. Off by default so tests can play users without the
	// connect flow.
	EnforceSubscriptions bool
	// RedirectURIs are the "Valid OAuth Redirect URIs" of the app; the
	// login dialog refuses others. Empty means any absolute http(s) URI.
	RedirectURIs []string
	// Now is the clock used for the messaging windows, token and code
	// expiry, rate-limit windows and event timestamps. Default time.Now.
	Now func() time.Time
	// Log receives the simulator's own diagnostics. Default: discarded.
	Log *slog.Logger
	// HTTPClient posts webhooks. Default: a client with a keep-alive pool
	// sized for benchmarks.
	HTTPClient *http.Client
	// OnSend, if set, is called after every successful Send API message
	// (not sender actions), outside the simulator's lock. Benchmarks use it
	// to time replies.
	OnSend func(Sent)
}

// Sim is a simulated Meta Graph API and webhook sender for Messenger. It
// is safe for concurrent use. Create it with New.
type Sim struct {
	appID, appSecret, appName, version string
	noProof, noEchoes, noRetries       bool
	enforceSubs                        bool
	retryDelays                        []time.Duration
	hookTimeout                        time.Duration
	redirectURIs                       []string
	now                                func() time.Time
	log                                *slog.Logger
	client                             *http.Client
	ownClient                          bool
	onSend                             func(Sent)

	// life is cancelled by Close; background deliveries watch it.
	life context.Context
	stop context.CancelFunc
	bg   sync.WaitGroup

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every recorded change
	closed  bool
	hookURL string
	baseURL string
	srv     *http.Server

	held heldCounter

	world
	records
	inject
	idMatching
}

// New returns a simulator with an empty world (no users, pages or
// people). It does not listen until Start; Handler serves it in-process.
func New(o Options) *Sim {
	s := &Sim{
		appID:        o.AppID,
		appSecret:    o.AppSecret,
		appName:      o.AppName,
		version:      o.Version,
		noProof:      o.NoProof,
		noEchoes:     o.NoEchoes,
		noRetries:    o.NoRetries,
		enforceSubs:  o.EnforceSubscriptions,
		retryDelays:  o.RetryDelays,
		hookTimeout:  o.WebhookTimeout,
		redirectURIs: append([]string(nil), o.RedirectURIs...),
		now:          o.Now,
		log:          o.Log,
		client:       o.HTTPClient,
		onSend:       o.OnSend,
		hookURL:      o.WebhookURL,
		changed:      make(chan struct{}),
	}
	s.held.changed = make(chan struct{})
	if s.appID == "" {
		s.appID = randDigits(15)
	}
	if s.appSecret == "" {
		s.appSecret = randHex(16)
	}
	if s.appName == "" {
		s.appName = "Parley Simulator"
	}
	if s.version == "" {
		s.version = DefaultVersion
	}
	if s.retryDelays == nil {
		s.retryDelays = []time.Duration{50 * time.Millisecond, 200 * time.Millisecond, time.Second}
	}
	if s.hookTimeout <= 0 {
		s.hookTimeout = 5 * time.Second
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.client == nil {
		// A benchmark pushes thousands of deliveries per second to one
		// host: keep connections alive instead of the default pool of 2.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = 512
		tr.MaxIdleConnsPerHost = 512
		s.client = &http.Client{Transport: tr}
		s.ownClient = true
	}
	s.life, s.stop = context.WithCancel(context.Background())
	s.world.init()
	s.sentCount = map[string]int{}
	s.inject.init()
	return s
}

// AppID returns the simulated app's ID (a string of digits).
func (s *Sim) AppID() string { return s.appID }

// AppSecret returns the simulated app's secret, the key of webhook
// signatures and appsecret_proof.
func (s *Sim) AppSecret() string { return s.appSecret }

// Version returns the Graph API version the simulator advertises.
func (s *Sim) Version() string { return s.version }

// SetWebhookURL sets where webhooks are POSTed.
func (s *Sim) SetWebhookURL(u string) {
	s.mu.Lock()
	s.hookURL = u
	s.mu.Unlock()
}

// WebhookURL returns where webhooks are POSTed ("" when unset).
func (s *Sim) WebhookURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hookURL
}

// Handler serves the Graph API, the login dialog and the simulator's
// control endpoints (/_sim/…), for use in-process (httptest.NewServer).
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start listens on addr ("127.0.0.1:0" when empty) and serves Handler
// until Close. It returns the base URL, e.g. "http://127.0.0.1:41234",
// to use as both the Graph URL and the dialog URL.
func (s *Sim) Start(addr string) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", errors.New("metasim: start: simulator closed")
	}
	if s.srv != nil {
		return "", errors.New("metasim: start: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("metasim: start: %w", err)
	}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.baseURL = "http://" + ln.Addr().String()
	srv := s.srv
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metasim: serve", "err", err)
		}
	}()
	return s.baseURL, nil
}

// URL returns the base URL Start listens on ("" before Start).
func (s *Sim) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// Close stops the listener, abandons pending webhook redeliveries and
// waits for the simulator's goroutines. It is safe to call twice.
func (s *Sim) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	srv := s.srv
	s.mu.Unlock()
	s.stop()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
		cancel()
	}
	s.bg.Wait()
	if s.ownClient {
		s.client.CloseIdleConnections()
	}
}

// bump wakes every waiter (WaitSent, WaitIdle). Callers
// hold s.mu.
func (s *Sim) bump() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor blocks until cond (evaluated under s.mu) holds or ctx ends.
func (s *Sim) waitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		if cond() {
			s.mu.Unlock()
			return nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// spawn runs fn in the background unless the simulator is closed; it is
// tracked by Close and by WaitIdle.
func (s *Sim) spawn(fn func()) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.pending++
	s.bg.Add(1)
	s.mu.Unlock()
	go func() {
		defer func() {
			s.mu.Lock()
			s.pending--
			s.bump()
			s.mu.Unlock()
			s.bg.Done()
		}()
		fn()
	}()
	return true
}

package browser

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// StepTimeout bounds one Do or Run call. It is a guard against a hung page
// (the test fails with a screenshot instead of blocking the whole suite),
// not a performance assertion, so it is generous for a loaded 2-core CI
// machine.
const StepTimeout = 90 * time.Second

// candidates are the executables tried, in order. Debian's package installs
// /usr/bin/chromium.
var candidates = [...]string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// ExecPath returns the Chromium executable on PATH, or "" when there is none.
func ExecPath() string {
	for _, name := range candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Option adjusts the browser New starts.
type Option func(*settings)

type settings struct {
	width, height int
	mobile        bool
	allowConsole  bool
}

// Viewport sets the page's size in CSS pixels. mobile emulates a phone: a
// touch screen, the meta viewport honoured, device scale 3 (so screenshots
// look like a phone's).
func Viewport(width, height int, mobile bool) Option {
	return func(s *settings) { s.width, s.height, s.mobile = width, height, mobile }
}

// Phone is a 390×844 phone (an iPhone 12 to 15 in CSS pixels).
func Phone() Option { return Viewport(390, 844, true) }

// AllowConsoleErrors stops console errors from failing the test, for a test
// that provokes them on purpose.
func AllowConsoleErrors() Option { return func(s *settings) { s.allowConsole = true } }

// New starts a fresh headless Chromium for t and returns the context of its
// one tab, ready for Do and Run. The browser stops when t ends. New skips
// the test when Chromium is missing (or under -short), except under CI=true,
// where a missing browser fails it.
func New(t testing.TB, opts ...Option) context.Context {
	t.Helper()
	ci := os.Getenv("CI") == "true"
	path := ExecPath()
	switch {
	case path == "" && ci:
		t.Fatalf("browser: no Chromium found (tried %s): CI must run the browser tests (run `make test`, which installs it)", strings.Join(candidates[:], ", "))
	case path == "":
		t.Skipf("browser: no Chromium found (tried %s); `make test` installs it", strings.Join(candidates[:], ", "))
	case testing.Short() && !ci:
		t.Skip("browser: skipped in -short mode")
	}
	s := settings{width: 1280, height: 900}
	for _, o := range opts {
		o(&s)
	}

	out := &syncBuffer{}
	allocOpts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(s.width, s.height),
		// Root in a container has no user namespaces for the sandbox.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		// The test machine's network is closed: without these Chromium
		// keeps dialling Google's hosts, and its refused connections slow
		// it down and clutter the log.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.CombinedOutput(out),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)

	// The first action starts the browser; it must run without a deadline
	// because the browser lives as long as the context of that first call.
	if err := chromedp.Do(ctx); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("browser: start %s: %v\n%s", path, err, out.String())
	}
	if s.mobile {
		err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(s.width), int64(s.height),
			chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch))
		if err != nil {
			cancelTab()
			cancelAlloc()
			t.Fatalf("browser: emulate a %d×%d phone: %v", s.width, s.height, err)
		}
	}

	console := &consoleLog{}
	ctx = context.WithValue(ctx, consoleKey{}, console)
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	messages := chromedp.Console(watchCtx)
	go func() {
		defer close(watched)
		for m, err := range messages {
			if err != nil {
				return
			}
			console.add(m)
		}
	}()

	t.Cleanup(func() {
		stopWatch()
		<-watched
		cancelTab()
		cancelAlloc()
		if s.allowConsole {
			return
		}
		for _, m := range console.errors() {
			t.Errorf("browser: the page reported %s (at %s)", m, m.URL)
		}
	})
	return ctx
}

// Do runs steps in order in the tab of ctx and fails the test at the first
// error, naming the page and saving a screenshot of it.
func Do(t testing.TB, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	Run(t, ctx, chromedp.Steps(steps...))
}

// Run runs one action in the tab of ctx and returns its value, failing the
// test as Do does.
func Run[T any](t testing.TB, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		failed(t, ctx, err)
	}
	return v
}

// failed reports err with the page's address and keeps a screenshot of the
// page, so a CI failure can be seen, not guessed.
func failed(t testing.TB, ctx context.Context, err error) {
	t.Helper()
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	where, _ := chromedp.Run(lctx, chromedp.Location())
	msg := "browser: " + err.Error()
	if errors.Is(err, context.DeadlineExceeded) {
		msg += " (the step did not finish within " + StepTimeout.String() + ")"
	}
	if where != "" {
		msg += "\n  page: " + where
	}
	if png, serr := fullPage(lctx); serr == nil {
		if p, werr := save("failure-"+t.Name(), png); werr == nil {
			msg += "\n  screenshot: " + p
		}
	}
	t.Fatal(msg)
}

type consoleKey struct{}

// ConsoleErrors returns the errors the page of ctx has reported so far
// (those that will fail the test unless AllowConsoleErrors was given).
func ConsoleErrors(ctx context.Context) []chromedp.ConsoleMessage {
	c, _ := ctx.Value(consoleKey{}).(*consoleLog)
	if c == nil {
		return nil
	}
	return c.errors()
}

// consoleLog keeps the page's console messages.
type consoleLog struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

func (c *consoleLog) add(m chromedp.ConsoleMessage) {
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
}

// errors returns the exceptions, console.error calls and browser errors
// (a CSP violation is a "security" error). HTTP error statuses ("network")
// are left out: tests visit 404 and 403 pages on purpose and check their
// statuses themselves.
func (c *consoleLog) errors() []chromedp.ConsoleMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []chromedp.ConsoleMessage
	for _, m := range c.msgs {
		if (m.Type == chromedp.ConsoleError || m.IsException()) && m.Source != "network" {
			out = append(out, m)
		}
	}
	return out
}

// syncBuffer collects the browser's output from its own goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

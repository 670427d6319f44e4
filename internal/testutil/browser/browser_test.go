package browser

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// site serves the pages the tests below visit.
func site(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tall", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><meta name="viewport" content="width=device-width">
<title>Tall</title><style>body{margin:0} #long{height:3000px;background:linear-gradient(#fff,#36c)}</style>
<h1 id="greeting">Hello</h1><div id="long"></div>`)
	})
	mux.HandleFunc("GET /inline", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "script-src 'self'")
		fmt.Fprint(w, `<!doctype html><title>Inline</title><p>x</p><script>document.title = "ran"</script>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestNavigateReadAndScreenshotWholePage(t *testing.T) {
	srv := site(t)
	ctx := New(t)
	Do(t, ctx, chromedp.Navigate(srv.URL+"/tall"))
	if got := Run(t, ctx, chromedp.Text(chromedp.CSS("#greeting"))); got != "Hello" {
		t.Errorf("heading = %q, want Hello", got)
	}
	p := Screenshot(t, ctx, "harness-tall")
	t.Cleanup(func() { os.Remove(p) })
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	// The page is 3000px tall and the window 900px: a viewport-only
	// capture would be 900px high.
	if h := img.Bounds().Dy(); h < 3000 {
		t.Errorf("screenshot height = %d, want the whole page (≥ 3000)", h)
	}
	if w := img.Bounds().Dx(); w != 1280 {
		t.Errorf("screenshot width = %d, want the 1280px window", w)
	}
}

func TestPhoneViewport(t *testing.T) {
	srv := site(t)
	ctx := New(t, Phone())
	Do(t, ctx, chromedp.Navigate(srv.URL+"/tall"))
	if w := Run(t, ctx, chromedp.Evaluate[int]("window.innerWidth")); w != 390 {
		t.Errorf("innerWidth = %d, want 390", w)
	}
}

// recorder is a testing.TB that keeps the errors and cleanups of New so the
// test can check that a page's CSP violation would fail a test.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func TestCSPViolationFailsTheTest(t *testing.T) {
	srv := site(t)
	rec := &recorder{TB: t}
	ctx := New(rec)
	Do(t, ctx, chromedp.Navigate(srv.URL+"/inline"))
	if title := Run(t, ctx, chromedp.Title()); title == "ran" {
		t.Fatal("the inline script ran despite the CSP; the test page is wrong")
	}
	// The violation is reported asynchronously: wait for it, with a
	// deadline so a missing report fails rather than hangs.
	deadline := time.Now().Add(StepTimeout)
	for len(ConsoleErrors(ctx)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for i := len(rec.cleanups) - 1; i >= 0; i-- {
		rec.cleanups[i]()
	}
	joined := strings.Join(rec.errs, "\n")
	if !strings.Contains(joined, "Content Security Policy") {
		t.Errorf("a CSP violation did not fail the test; errors were:\n%s", joined)
	}
}

func TestMissingChromiumFailsUnderCI(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", "true")
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() { // Fatalf ends the goroutine with runtime.Goexit, as in a test
		defer close(done)
		New(rec)
	}()
	<-done
	if !rec.fatal {
		t.Error("New did not fail the test under CI=true with no Chromium")
	}
}

// fatalRecorder notes a call to Fatalf instead of ending the test.
type fatalRecorder struct {
	testing.TB
	fatal bool
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.fatal = true
	runtime.Goexit()
}

func (r *fatalRecorder) Skipf(format string, args ...any) { runtime.Goexit() }

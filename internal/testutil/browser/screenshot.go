package browser

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// OutputDir is where screenshots go, relative to the package under test (go
// test runs in the package's directory). It is git-ignored.
const OutputDir = "testdata/output"

// Screenshot saves a PNG of the whole page, not only the visible part, as
// testdata/output/<name>.png in the calling package and returns its path.
// Saving a screenshot is not an assertion; it is there so people (and
// reviewers) can look at what the test saw.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	png, err := fullPage(sctx)
	if err != nil {
		t.Fatalf("browser: screenshot %q: %v", name, err)
	}
	p, err := save(name, png)
	if err != nil {
		t.Fatalf("browser: screenshot %q: %v", name, err)
	}
	return p
}

// fullPage captures the page's whole scrollable area at the device scale.
func fullPage(ctx context.Context) ([]byte, error) {
	return chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		m, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		if m.CSSContentSize == nil {
			return nil, errors.New("the browser reported no content size")
		}
		w, h := math.Ceil(m.CSSContentSize.Width), math.Ceil(m.CSSContentSize.Height)
		if m.CSSLayoutViewport != nil { // never narrower or shorter than the window
			w = max(w, float64(m.CSSLayoutViewport.ClientWidth))
			h = max(h, float64(m.CSSLayoutViewport.ClientHeight))
		}
		beyond := true
		r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format:                page.CaptureScreenshotFormatPng,
			CaptureBeyondViewport: &beyond,
			Clip:                  &page.Viewport{Width: w, Height: h, Scale: 1},
		})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	})
}

// save writes png to OutputDir/<name>.png, with name made safe for a file
// (subtest names carry slashes).
func save(name string, png []byte) (string, error) {
	name = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, name)
	if err := os.MkdirAll(OutputDir, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(OutputDir, name+".png")
	return p, os.WriteFile(p, png, 0o644)
}

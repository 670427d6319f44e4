package httpx_test

import (
	"net/http/httptest"
	"testing"

	"github.com/parleyhq/parley/internal/httpx"
)

// An uploaded file is shown inline with its type only when asked; else it
// downloads as octet-stream. Either way it is never sniffed, sandboxed and
// not cached, and a hostile name cannot break the header.
func TestWriteFile(t *testing.T) {
	for _, tc := range []struct {
		name        string
		inline      bool
		wantType    string
		wantDisposi string
	}{
		{"photo", true, "image/png", `inline; filename=photo.png`},
		{"document", false, "application/octet-stream", `attachment; filename=photo.png`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			httpx.WriteFile(rec, "image/png", "photo.png", tc.inline, []byte("png bytes"))
			h := rec.Result().Header
			for k, want := range map[string]string{
				"Content-Type": tc.wantType, "Content-Disposition": tc.wantDisposi, "Content-Length": "9",
				"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox; default-src 'none'",
				"Cache-Control": "private, no-store",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if rec.Body.String() != "png bytes" {
				t.Errorf("body %q", rec.Body.String())
			}
		})
	}
	rec := httptest.NewRecorder()
	httpx.WriteFile(rec, "text/plain", "a\"b\r\nX-Evil: 1.txt", false, nil)
	if got := rec.Result().Header.Get("X-Evil"); got != "" {
		t.Errorf("a file name injected a header: %q", got)
	}
}

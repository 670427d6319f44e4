package httpx

import (
	"mime"
	"net/http"
	"strconv"
)

// WriteFile answers a file someone uploaded (an attachment): inline as its
// own content type only when inline is true (images, audio, video whose
// type was read from their bytes), otherwise as a download of
// application/octet-stream. Never sniffed, sandboxed so that a document
// opened from it cannot run script on Parley's origin, never cached.
func WriteFile(w http.ResponseWriter, contentType, name string, inline bool, data []byte) {
	disp, ct := "attachment", "application/octet-stream"
	if inline {
		disp, ct = "inline", contentType
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/httpx"
)

// staticFS holds the stylesheet, the scripts, the icon and vendored files.
//
//go:embed static
var staticFS embed.FS

// assets indexes the embedded static files by path (relative to static/)
// with a short content hash, so URLs change whenever a file does and
// browsers may cache each URL for a year.
type assets struct {
	files map[string]asset
}

type asset struct {
	body  []byte
	hash  string // first 12 hex digits of the SHA-256 of body
	ctype string
}

func loadAssets() *assets {
	a := &assets{files: map[string]asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		a.files[strings.TrimPrefix(p, "static/")] = asset{body: b, hash: hex.EncodeToString(sum[:6]), ctype: ctype}
		return nil
	})
	if err != nil {
		panic("web: read embedded assets: " + err.Error()) // embedded at build time: cannot fail at run time
	}
	return a
}

// url returns the versioned URL of a static file, for templates. An unknown
// name panics during rendering, which the page tests catch.
func (a *assets) url(name string) (string, error) {
	f, ok := a.files[name]
	if !ok {
		return "", &missingAsset{name}
	}
	return "/static/" + name + "?v=" + f.hash, nil
}

type missingAsset struct{ name string }

func (m *missingAsset) Error() string { return "web: no static file " + m.name }

// static serves an embedded file. A request carrying the current hash is
// cached for a year as immutable; any other (an old page asking for an old
// version, or no version) is served fresh but must be revalidated.
func (d *Dashboard) static(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("path")
	f, ok := d.assets.files[name]
	if !ok {
		return httpx.NotFound("file")
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	if r.URL.Query().Get("v") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("ETag", `"`+f.hash+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
	return nil
}

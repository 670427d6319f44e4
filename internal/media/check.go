package media

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif"  // image.DecodeConfig reads the dimensions of GIFs,
	_ "image/jpeg" // JPEGs
	_ "image/png"  // and PNGs before anything is stored
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/validate"
)

// Kinds of object: the Send API's media types.
const (
	KindImage = "image"
	KindVideo = "video"
	KindAudio = "audio"
	KindFile  = "file"
)

// Limits an upload must fit.
const (
	// DefaultMaxBytes is Messenger's attachment limit (25 MB,
	// meta-platform.md §2.3); larger files could not be sent anyway.
	DefaultMaxBytes = 25 << 20
	// MaxPixels bounds an image's width × height, read from its header
	// before anything else (security.md J-11: pixel floods).
	MaxPixels = 50_000_000
	// MaxNameBytes bounds the file name kept (for display only).
	MaxNameBytes = 255
)

// allowed maps each content type Parley accepts, as sniffed from the
// file's first bytes (never the name or the client's word, security.md
// J-10), to the kind it is sent as. Markup that a browser would run (HTML,
// SVG, XML) is absent on purpose (J-4).
var allowed = map[string]string{
	"image/jpeg":      KindImage,
	"image/png":       KindImage,
	"image/gif":       KindImage,
	"image/webp":      KindImage,
	"video/mp4":       KindVideo,
	"video/webm":      KindVideo,
	"audio/mpeg":      KindAudio,
	"audio/wave":      KindAudio,
	"audio/aac":       KindAudio,
	"application/ogg": KindAudio,
	"application/pdf": KindFile,
	"text/plain":      KindFile,
	"application/zip": KindFile, // also .docx, .xlsx, .pptx: never unpacked here
}

// Accepted lists the accepted file types in words, for hints and errors.
const Accepted = "images (JPEG, PNG, GIF, WebP), videos (MP4, WebM), audio (MP3, M4A, WAV, AAC, Ogg) and files (PDF, plain text, ZIP and Office documents)"

// AcceptAttr is the file input's accept attribute matching allowed.
const AcceptAttr = "image/jpeg,image/png,image/gif,image/webp,video/mp4,video/webm,audio/mpeg,audio/wav,audio/aac,audio/mp4,audio/ogg,application/pdf,text/plain,application/zip,.docx,.xlsx,.pptx"

// Upload is a file as received: its bytes and the name it came with.
type Upload struct {
	Name string
	Data []byte
}

// checked is what check learned about an upload.
type checked struct {
	kind, contentType, name string
}

// check validates up against the limits: not empty, at most max bytes, a
// type from the allowed list judged by content, and images no larger than
// MaxPixels. Refusals are *validate.Error on field "file"; a size refusal
// also matches ErrTooLarge.
func check(up Upload, max int64) (checked, error) {
	switch {
	case len(up.Data) == 0:
		return checked{}, validate.Field("file", "Choose a file to send: this one is empty.")
	case int64(len(up.Data)) > max:
		return checked{}, &tooLarge{validate.Field("file", fmt.Sprintf("The file is %s; the most Parley can send is %s.", size(int64(len(up.Data))), size(max)))}
	}
	ct := sniff(up.Data)
	kind, ok := allowed[ct]
	if !ok {
		return checked{}, validate.Field("file", "Parley cannot send this kind of file. It accepts "+Accepted+".")
	}
	if kind == KindImage {
		w, h, ok := webpSize(up.Data)
		if ct != "image/webp" {
			cfg, _, err := image.DecodeConfig(bytes.NewReader(up.Data))
			w, h, ok = cfg.Width, cfg.Height, err == nil
		}
		if !ok {
			return checked{}, validate.Field("file", "This image cannot be read: it may be damaged.")
		}
		if int64(w)*int64(h) > MaxPixels {
			return checked{}, validate.Field("file", fmt.Sprintf("This image is %d × %d pixels; the most Parley accepts is %d million pixels.", w, h, MaxPixels/1_000_000))
		}
	}
	return checked{kind: kind, contentType: ct, name: cleanName(up.Name, kind)}, nil
}

// cleanName keeps a file name for display and Content-Disposition only:
// the last path element, valid UTF-8, no control or bidi-override
// characters, at most MaxNameBytes (security.md J-9). It is never a path.
func cleanName(name, kind string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ToValidUTF8(name, "")
	name = strings.Map(func(r rune) rune {
		switch {
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			return -1
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f:
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	for len(name) > MaxNameBytes {
		_, n := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-n]
	}
	if name == "" || name == "." || name == ".." {
		name = kind
	}
	return name
}

// size writes n bytes in words.
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ErrTooLarge matches (errors.Is) the refusal of a file over the size
// limit, which the HTTP surfaces answer with 413.
var ErrTooLarge = fmt.Errorf("media: file too large")

// tooLarge is the *validate.Error of an oversized file that also matches
// ErrTooLarge.
type tooLarge struct{ v *validate.Error }

func (e *tooLarge) Error() string        { return e.v.Error() }
func (e *tooLarge) Is(target error) bool { return target == ErrTooLarge }
func (e *tooLarge) Unwrap() error        { return e.v }

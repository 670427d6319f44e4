package media

import (
	"strings"
	"testing"
)

// Security test plan J-10: the type comes from the bytes, from a closed
// list; markup is never text.
func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"},
		{"gif", "GIF89a....", "image/gif"},
		{"webp", "RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"},
		{"wav", "RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wave"},
		{"mp4", "\x00\x00\x00\x18ftypmp42", "video/mp4"},
		{"m4a", "\x00\x00\x00\x18ftypM4A ", "audio/mp4"},
		{"heic is no video", "\x00\x00\x00\x18ftypheic", ""},
		{"webm", "\x1a\x45\xdf\xa3\x01", "video/webm"},
		{"mp3 id3", "ID3\x03\x00", "audio/mpeg"},
		{"mp3 frame", "\xff\xfb\x90\x00", "audio/mpeg"},
		{"aac", "\xff\xf1\x50\x80", "audio/aac"},
		{"ogg", "OggS\x00\x02", "application/ogg"},
		{"pdf", "%PDF-1.7\n", "application/pdf"},
		{"zip", "PK\x03\x04\x14\x00", "application/zip"},
		{"text", "Hello, សួស្តី\n", "text/plain"},
		{"html", "<html><body>", ""},
		{"html after spaces", " \n\t<script>alert(1)</script>", ""},
		{"svg with bom", "\xef\xbb\xbf<svg/>", ""},
		{"nul", "abc\x00def", ""},
		{"escape", "abc\x1b[31m", ""},
		{"invalid utf-8", "abc\xff\xfe", ""},
		{"elf", "\x7fELF", ""},
	} {
		if got := sniff([]byte(tc.data)); got != tc.want {
			t.Errorf("%s: sniff = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Security test plan J-9: a name is kept for display only.
func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"../../etc/passwd":       "passwd",
		`..\..\x.exe`:            "x.exe",
		"a\x00b\r\n.txt":         "ab.txt",
		"evil\u202egnp.exe":      "evilgnp.exe",
		"":                       "file",
		"..":                     "file",
		strings.Repeat("é", 300): strings.Repeat("é", 127),
		"  photo of shop.jpg  ":  "photo of shop.jpg",
	} {
		if got := cleanName(in, KindFile); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

// Security test plan J-11 for WebP, which the standard library cannot
// decode: the canvas size comes from the first chunk.
func TestWebPSize(t *testing.T) {
	vp8x := []byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00")
	vp8x = append(vp8x, 0x4f, 0xc3, 0x00, 0x4f, 0xc3, 0x00) // 50000 × 50000
	if w, h, ok := webpSize(vp8x); !ok || w != 50000 || h != 50000 {
		t.Errorf("VP8X: %d × %d, %v", w, h, ok)
	}
	if _, err := check(Upload{Data: vp8x}, DefaultMaxBytes); err == nil || !strings.Contains(err.Error(), "pixels") {
		t.Errorf("a 50000 × 50000 WebP: %v", err)
	}
	// VP8L: 14-bit width-1 and height-1 after the 0x2f signature.
	bits := uint32(99) | uint32(49)<<14 // 100 × 50
	vp8l := []byte("RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x2f")
	vp8l = append(vp8l, byte(bits), byte(bits>>8), byte(bits>>16), byte(bits>>24), 0, 0, 0, 0, 0)
	if w, h, ok := webpSize(vp8l); !ok || w != 100 || h != 50 {
		t.Errorf("VP8L: %d × %d, %v", w, h, ok)
	}
	if c, err := check(Upload{Data: vp8l}, DefaultMaxBytes); err != nil || c.kind != KindImage {
		t.Errorf("a 100 × 50 WebP: %+v, %v", c, err)
	}
	if _, err := check(Upload{Data: []byte("RIFF\x00\x00\x00\x00WEBPVP8 short")}, DefaultMaxBytes); err == nil {
		t.Error("a truncated WebP was accepted")
	}
}

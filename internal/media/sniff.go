package media

import (
	"bytes"
	"unicode/utf8"
)

// sniff names the content type of data from its first bytes, for the types
// Parley accepts only ("" for anything else). It is a closed list on
// purpose, rather than a general detector: a file is accepted for what its
// bytes are, and markup of any kind (HTML, SVG, XML) is never "text".
func sniff(data []byte) string {
	has := func(off int, sig string) bool {
		return len(data) >= off+len(sig) && string(data[off:off+len(sig)]) == sig
	}
	switch {
	case has(0, "\xff\xd8\xff"):
		return "image/jpeg"
	case has(0, "\x89PNG\r\n\x1a\n"):
		return "image/png"
	case has(0, "GIF87a"), has(0, "GIF89a"):
		return "image/gif"
	case has(0, "RIFF") && has(8, "WEBPVP"):
		return "image/webp"
	case has(0, "RIFF") && has(8, "WAVE"):
		return "audio/wave"
	case has(4, "ftypM4A "):
		return "audio/mp4"
	case has(4, "ftypheic"), has(4, "ftypheix"), has(4, "ftypmif1"), has(4, "ftypavif"):
		// HEIF and AVIF stills share MP4's container; Messenger does not
		// take them, and they are no videos.
		return ""
	case has(4, "ftyp"):
		return "video/mp4"
	case has(0, "\x1a\x45\xdf\xa3"):
		return "video/webm"
	case has(0, "ID3"), len(data) >= 2 && data[0] == 0xff && (data[1]&0xe6) == 0xe2:
		// An ID3 tag, or an MPEG audio frame sync (layer III).
		return "audio/mpeg"
	case len(data) >= 2 && data[0] == 0xff && (data[1]&0xf6) == 0xf0:
		// ADTS frame sync: AAC.
		return "audio/aac"
	case has(0, "OggS\x00"):
		return "application/ogg"
	case has(0, "%PDF-"):
		return "application/pdf"
	case has(0, "PK\x03\x04"):
		return "application/zip"
	case isPlainText(data):
		return "text/plain"
	}
	return ""
}

// isPlainText reports whether data is UTF-8 text without control
// characters (other than tab, newlines and form feed) that does not start
// like markup a browser could render.
func isPlainText(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n\f")
	if len(trimmed) > 0 && trimmed[0] == '<' {
		return false
	}
	for _, b := range data {
		if b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f' || b == 0x7f {
			return false
		}
	}
	return true
}

// webpSize reads a WebP's canvas size from its first chunk (the standard
// library has no WebP decoder), for the pixel-flood check.
func webpSize(b []byte) (w, h int, ok bool) {
	if len(b) < 30 {
		return 0, 0, false
	}
	le24 := func(p []byte) int { return int(p[0]) | int(p[1])<<8 | int(p[2])<<16 }
	switch string(b[12:16]) {
	case "VP8X":
		return le24(b[24:]) + 1, le24(b[27:]) + 1, true
	case "VP8L":
		if b[20] != 0x2f {
			return 0, 0, false
		}
		bits := int(b[21]) | int(b[22])<<8 | int(b[23])<<16 | int(b[24])<<24
		return bits&0x3fff + 1, (bits>>14)&0x3fff + 1, true
	case "VP8 ":
		if b[23] != 0x9d || b[24] != 0x01 || b[25] != 0x2a {
			return 0, 0, false
		}
		return (int(b[26]) | int(b[27])<<8) & 0x3fff, (int(b[28]) | int(b[29])<<8) & 0x3fff, true
	}
	return 0, 0, false
}

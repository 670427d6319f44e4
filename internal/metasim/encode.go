package metasim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"
)

// MetaJSON serialises v the way Meta serialises webhook bodies and Graph
// responses: compact JSON, object keys in struct-field order, every
// non-ASCII character as a \uXXXX escape with lowercase hex digits
// (surrogate pairs above U+FFFF) and "/" as "\/". The result is pure
// ASCII, so a receiver that re-encodes the decoded value (instead of
// hashing the raw bytes) computes a different signature.
func MetaJSON(v any) ([]byte, error) {
	b, err := rawJSON(v)
	if err != nil {
		return nil, err
	}
	return EscapeJSON(b), nil
}

// rawJSON is the UTF-8 form: compact, keys in struct-field order, no HTML
// escaping (Meta does not turn "<" into \u003c).
func rawJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// EscapeJSON rewrites valid JSON text into Meta's escaped ASCII form (see
// MetaJSON) without changing its value: non-ASCII characters become
// lowercase \uXXXX escapes and "/" becomes "\/". Existing escapes are kept
// as they are. Outside strings valid JSON is ASCII, so the rewrite only
// ever touches string contents.
func EscapeJSON(raw []byte) []byte {
	out := make([]byte, 0, len(raw)+len(raw)/4)
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw):
			out = append(out, c, raw[i+1])
			i += 2
		case c == '/':
			out = append(out, '\\', '/')
			i++
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r > 0xFFFF {
				r1, r2 := utf16.EncodeRune(r)
				out = appendU(appendU(out, r1), r2)
			} else {
				out = appendU(out, r)
			}
			i += size
		}
	}
	return out
}

func appendU(out []byte, r rune) []byte {
	const hexd = "0123456789abcdef"
	return append(out, '\\', 'u', hexd[r>>12&0xF], hexd[r>>8&0xF], hexd[r>>4&0xF], hexd[r&0xF])
}

// Signature256 returns the X-Hub-Signature-256 header value for body:
// "sha256=" and the lowercase hex HMAC-SHA256 keyed with the app secret.
func Signature256(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Signature1 returns the legacy X-Hub-Signature header value for body:
// "sha1=" and the lowercase hex HMAC-SHA1 keyed with the app secret.
func Signature1(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

// AppSecretProof returns the appsecret_proof for an access token: the
// lowercase hex HMAC-SHA256 of the token keyed with the app secret.
func AppSecretProof(secret, token string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// object is a JSON object whose keys keep their insertion order, for
// responses whose field order depends on the request (?fields=…).
type object []field

type field struct {
	key string
	val any
}

// MarshalJSON writes the fields in order.
func (o object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := rawJSON(f.key)
		if err != nil {
			return nil, err
		}
		v, err := rawJSON(f.val)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

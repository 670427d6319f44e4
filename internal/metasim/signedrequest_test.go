package metasim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Reference §6.4: the simulator's signed requests are the documented
// vectors byte for byte.
func TestSignedRequestVectors(t *testing.T) {
	s := New(Options{AppSecret: "test_app_secret"})
	defer s.Close()
	for _, c := range []struct {
		payload map[string]any
		want    string
	}{
		{map[string]any{"algorithm": "HMAC-SHA256", "expires": 1291840400, "issued_at": 1291836800, "user_id": "218471"},
			"MgChNJTM9CJ75wlk7iDsf-5_LH4rMfst5fvUhiJRiqg.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImV4cGlyZXMiOjEyOTE4NDA0MDAsImlzc3VlZF9hdCI6MTI5MTgzNjgwMCwidXNlcl9pZCI6IjIxODQ3MSJ9"},
		{map[string]any{"algorithm": "HMAC-SHA1", "issued_at": 1291836800, "user_id": "218471"},
			"3Z5-ETrhGiWtXNfSgyzsQ3DSHtV81FZu8ZSeSDEtDVU.eyJhbGdvcml0aG0iOiJITUFDLVNIQTEiLCJpc3N1ZWRfYXQiOjEyOTE4MzY4MDAsInVzZXJfaWQiOiIyMTg0NzEifQ"},
		{map[string]any{"algorithm": "HMAC-SHA256", "issued_at": 1332153487, "user": map[string]string{"country": "de", "locale": "de_DE"}, "user_id": "10000123456789"},
			"ldfMKlGYX6x9z7kR0FLW-rzmKUkL361mNfk0G1bKP-A.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImlzc3VlZF9hdCI6MTMzMjE1MzQ4NywidXNlciI6eyJjb3VudHJ5IjoiZGUiLCJsb2NhbGUiOiJkZV9ERSJ9LCJ1c2VyX2lkIjoiMTAwMDAxMjM0NTY3ODkifQ"},
	} {
		got, err := s.SignedRequest(c.payload)
		if err != nil || got != c.want {
			t.Errorf("SignedRequest(%v)\n got %s\nwant %s", c.payload, got, c.want)
		}
	}
}

func TestDataDeletionCallback(t *testing.T) {
	f := newFixture(t)
	if st, _, err := f.s.DataDeletion(ctx(t), f.rc.srv.URL+"/meta/data-deletion", "218471"); err != nil || st != 200 {
		t.Fatalf("%d %v", st, err)
	}
	if st, _, err := f.s.Deauthorize(ctx(t), f.rc.srv.URL+"/meta/deauthorize", "218471"); err != nil || st != 200 {
		t.Fatalf("%d %v", st, err)
	}
	got := f.rc.wait(t, 2)
	for i, d := range got {
		if d.method != http.MethodPost || d.header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Fatalf("request %d: %s %v", i, d.method, d.header)
		}
		form, err := url.ParseQuery(string(d.body))
		if err != nil {
			t.Fatal(err)
		}
		sig, payload, _ := strings.Cut(form.Get("signed_request"), ".")
		m := hmac.New(sha256.New, []byte("test_app_secret"))
		m.Write([]byte(payload))
		if base64.RawURLEncoding.EncodeToString(m.Sum(nil)) != sig {
			t.Fatalf("request %d: bad signature", i)
		}
		raw, _ := base64.RawURLEncoding.DecodeString(payload)
		var p map[string]any
		if err := json.Unmarshal(raw, &p); err != nil || p["algorithm"] != "HMAC-SHA256" || p["user_id"] != "218471" ||
			p["issued_at"] != float64(f.clock.Now().Unix()) {
			t.Fatalf("request %d payload %s", i, raw)
		}
	}
}

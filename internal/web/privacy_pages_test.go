package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// withOperator names the operator the public pages show.
func withOperator() apptest.Option {
	return apptest.WithConfig(func(c *config.Config) {
		c.Operator = config.Operator{Name: "Sunrise Hosting Ltd", Email: "privacy@sunrise.example"}
	})
}

// deletionCode plays Meta's data-deletion callback for the app-scoped ID
// asid against the running app and returns the confirmation code.
func deletionCode(t *testing.T, s *site, asid string) string {
	t.Helper()
	st, body, err := s.App.Sim.Sim().DataDeletion(context.Background(), s.URL+"/meta/data-deletion", asid)
	if err != nil || st != http.StatusOK {
		t.Fatalf("deletion callback: %d %s %v", st, body, err)
	}
	var a struct {
		URL  string `json:"url"`
		Code string `json:"confirmation_code"`
	}
	if err := json.Unmarshal(body, &a); err != nil || a.Code == "" || a.URL != s.URL+"/data-deletion?code="+a.Code {
		t.Fatalf("answer %s: %v", body, err)
	}
	return a.Code
}

// Promise P-32, H-2, H-4: the public pages name the operator from config;
// the status page shows a request's state and date and nothing personal,
// tells unknown, malformed and absent codes apart by nothing, keeps the
// code out of Referer headers and is rate-limited.
func TestPrivacyPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d, withOperator(), apptest.Started())
		c := s.client(t)
		for _, path := range []string{"/privacy", "/data-deletion/instructions", "/data-deletion"} {
			p := c.get(path)
			if p.Status != http.StatusOK {
				t.Fatalf("%s: %d", path, p.Status)
			}
			if path != "/data-deletion" && (!strings.Contains(p.Body, "Sunrise Hosting Ltd") || !strings.Contains(p.Body, "mailto:privacy@sunrise.example")) {
				t.Errorf("%s does not name the operator", path)
			}
			if !strings.Contains(p.Body, "cannot") {
				t.Errorf("%s does not say what a request cannot reach", path)
			}
		}

		const asid = "4242000011112222"
		code := deletionCode(t, s, asid)
		// The job runs in the background: poll the page until it says
		// completed (it shows received or in progress before).
		deadline := time.Now().Add(20 * time.Second)
		var p *page
		for {
			p = c.get("/data-deletion?code=" + code)
			if p.Status != http.StatusOK {
				t.Fatalf("status page: %d", p.Status)
			}
			if strings.Contains(p.Body, "Completed on 21 November 2026") || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !strings.Contains(p.Body, "Completed on 21 November 2026") || !strings.Contains(p.Body, "held no data") {
			t.Errorf("status page after the job:\n%s", p.Body)
		}
		if strings.Contains(p.Body, asid) {
			t.Error("the status page shows the person's ID")
		}
		if got := p.Header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("Referrer-Policy %q", got)
		}

		unknown := c.get("/data-deletion?code=" + strings.Repeat("0", 32)).Body
		for _, code := range []string{"zzz", strings.Repeat("a", 64), code[:31]} {
			if got := c.get("/data-deletion?code=" + code).Body; got != unknown {
				t.Errorf("code %q gets a page different from an unknown code's", code)
			}
		}
		if !strings.Contains(unknown, "no deletion request with this code") {
			t.Errorf("unknown code page:\n%s", unknown)
		}
		// 30 look-ups a minute per address; the clock stands still.
		limited := false
		for range 40 {
			if c.get("/data-deletion?code="+strings.Repeat("1", 32)).Status == http.StatusTooManyRequests {
				limited = true
				break
			}
		}
		if !limited {
			t.Error("the status page is not rate-limited")
		}
	})
}

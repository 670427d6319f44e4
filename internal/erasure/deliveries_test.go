package erasure_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/webhook"
)

// Issue 6 item 4 (raw webhook payloads): deliveries stored by the real
// intake, not yet applied (processing off), are opened and scrubbed by an
// erasure — so package erasure binds bodies exactly as package webhook
// does. The erased contact's events go; another person's event in the
// same delivery stays, readable.
func TestEraseScrubsIntakeDeliveries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newEnv(t, d)
		s := e.space(t)
		gone, kept := e.plant(t, s, "gone"), e.plant(t, s, "kept")
		const secret = "app-secret"
		in := webhook.New(d, webhook.Options{Master: e.master, AppSecrets: []string{secret}})
		if err := in.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Stop(context.Background()) })
		var receive http.Handler
		for _, rt := range in.Routes() {
			if rt.Method == http.MethodPost {
				h := rt.Handler
				receive = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if err := h(w, r); err != nil {
						t.Errorf("intake: %v", err)
					}
				})
			}
		}
		post := func(psids ...string) {
			t.Helper()
			var events []map[string]any
			for _, p := range psids {
				events = append(events, map[string]any{"sender": map[string]string{"id": p}, "recipient": map[string]string{"id": "page"},
					"timestamp": 1732000000000, "message": map[string]string{"mid": "m_" + p, "text": "secret of " + p}})
			}
			body, _ := json.Marshal(map[string]any{"object": "page", "entry": []any{map[string]any{"id": "page", "time": 1732000000000, "messaging": events}}})
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write(body)
			req := httptest.NewRequest(http.MethodPost, webhook.Path, strings.NewReader(string(body)))
			req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
			rec := httptest.NewRecorder()
			receive.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("intake answered %d %s", rec.Code, rec.Body)
			}
		}
		post(gone.psid)
		post(gone.psid2, kept.psid)
		var ids []string
		if err := d.R.NewRaw(`SELECT id FROM webhook_deliveries ORDER BY id`).Scan(ctx, &ids); err != nil || len(ids) != 2 {
			t.Fatalf("stored deliveries: %v, %v", ids, err)
		}
		if b := e.deliveryBody(t, ids[1]); !strings.Contains(b, gone.psid2) {
			t.Fatalf("control: the intake's delivery does not open as package erasure opens it: %q", b)
		}

		if err := e.s.EraseContact(ctx, audit.Actor{}, s.ws, gone.id); err != nil {
			t.Fatal(err)
		}
		if b := e.deliveryBody(t, ids[0]); b != "" {
			t.Errorf("the erased contact's own delivery stayed: %s", b)
		}
		b := e.deliveryBody(t, ids[1])
		if strings.Contains(b, gone.psid2) || !strings.Contains(b, "secret of "+kept.psid) {
			t.Errorf("the shared delivery reads %s", b)
		}
	})
}

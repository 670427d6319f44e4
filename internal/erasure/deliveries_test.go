package erasure_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/gate"
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
		post := e.intake(t, "page", webhook.Options{})
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
		b := e.deliveryBody(t, e.replacement(t, ids[1]))
		if strings.Contains(b, gone.psid2) || !strings.Contains(b, "secret of "+kept.psid) {
			t.Errorf("the shared delivery reads %s", b)
		}
	})
}

// The webhook processor keeps a backlog of delivery bodies in memory, in
// clear. A delivery it took in before an erasure and applies after it must
// not bring the erased person back: the scrubbed delivery is stored again
// under a new ID, the copy in memory claims nothing, and only the scrubbed
// body is applied (from the table) — the other person's event once, the
// erased person's never.
func TestEraseBeatsTheProcessorsMemory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newEnv(t, d)
		s := e.space(t)
		gone, kept := e.plant(t, s, "gone"), e.plant(t, s, "kept")
		var page string
		if err := d.R.NewRaw(`SELECT external_id FROM channels WHERE id = ?`, s.ch1).Scan(ctx, &page); err != nil {
			t.Fatal(err)
		}
		fake := &recordingInbox{}
		post := e.intake(t, page, webhook.Options{Channels: channel.NewStore(d, e.kr, time.Now), Inbox: fake,
			CatchUpEvery: 100 * time.Millisecond, MaxLag: -1})
		// The processor applies a first delivery and then stalls, outside
		// any transaction; the shared delivery waits behind it in memory.
		held, release := fake.hold()
		defer release()
		post("warm-up")
		<-held
		post(gone.psid, kept.psid)
		if err := e.s.EraseContact(ctx, audit.Actor{}, s.ws, gone.id); err != nil {
			t.Fatal(err)
		}
		release()
		deadline := time.Now().Add(time.Minute)
		for count(t, d, `SELECT COUNT(*) FROM webhook_deliveries`) > 0 {
			if time.Now().After(deadline) {
				t.Fatal("the scrubbed delivery was never applied")
			}
			time.Sleep(20 * time.Millisecond)
		}
		got := fake.senders()
		if slices.Contains(got, gone.psid) {
			t.Errorf("the erased person's event was applied after the erasure: %v", got)
		}
		if n := len(slices.DeleteFunc(slices.Clone(got), func(p string) bool { return p != kept.psid })); n != 1 {
			t.Errorf("the other person's event was applied %d times, want once: %v", n, got)
		}
	})
}

// recordingInbox stands in for the inbox: it records whose events the
// intake applies and can hold the processor in its next Notify.
type recordingInbox struct {
	mu   sync.Mutex
	from []string
	gate gate.Gate
}

func (f *recordingInbox) Ingest(_ context.Context, _ bun.Tx, _ channel.Channel, evs []channel.Inbound) (inbox.Effects, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ev := range evs {
		f.from = append(f.from, ev.UserID)
	}
	return inbox.Effects{}, nil
}

func (f *recordingInbox) Notify(inbox.Effects) { f.gate.Pass() }

func (f *recordingInbox) hold() (held <-chan struct{}, release func()) { return f.gate.Hold() }

func (f *recordingInbox) senders() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.from)
}

// intake starts a real webhook intake on e's database with opt (its
// master key and app secret filled in; processing registered when opt
// names an Inbox) and returns a function that posts, signed, one delivery
// to page with a text message from each of psids, failing the test unless
// it is answered 200.
func (e *env) intake(t *testing.T, page string, opt webhook.Options) func(psids ...string) {
	t.Helper()
	const secret = "app-secret"
	opt.Master, opt.AppSecrets = e.master, []string{secret}
	in := webhook.New(e.d, opt)
	if opt.Inbox != nil {
		in.Register()
	}
	if err := in.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Stop(context.Background()) })
	var receive func(http.ResponseWriter, *http.Request) error
	for _, rt := range in.Routes() {
		if rt.Method == http.MethodPost {
			receive = rt.Handler
		}
	}
	return func(psids ...string) {
		t.Helper()
		var events []map[string]any
		for _, p := range psids {
			events = append(events, map[string]any{"sender": map[string]string{"id": p}, "recipient": map[string]string{"id": page},
				"timestamp": 1732000000000, "message": map[string]string{"mid": "m_" + p, "text": "secret of " + p}})
		}
		body, _ := json.Marshal(map[string]any{"object": "page", "entry": []any{map[string]any{"id": page, "time": 1732000000000, "messaging": events}}})
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		req := httptest.NewRequest(http.MethodPost, webhook.Path, strings.NewReader(string(body)))
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		rec := httptest.NewRecorder()
		if err := receive(rec, req); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("intake answered %d %v %s", rec.Code, err, rec.Body)
		}
	}
}

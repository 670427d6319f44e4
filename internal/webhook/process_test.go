package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/webhook"
)

// messageBody is a Messenger delivery with one text message per mid, all
// to page.
func messageBody(page string, mids ...string) string {
	var items []string
	for _, mid := range mids {
		items = append(items, fmt.Sprintf(`{"sender":{"id":"PSID"},"recipient":{"id":%q},"timestamp":1458692752478,"message":{"mid":%q,"text":"hi"}}`, page, mid))
	}
	return fmt.Sprintf(`{"object":"page","entry":[{"id":%q,"time":1458692752478,"messaging":[%s]}]}`, page, strings.Join(items, ","))
}

// settle waits until every processing job has finished.
func settle(t *testing.T, d *db.DB) {
	t.Helper()
	waitFor(t, "processing to finish", func() bool { return processJobs(t, d) == 0 })
}

func ingested(t *testing.T, d *db.DB, mid string) int {
	return count(t, d, `SELECT COUNT(*) FROM test_ingested WHERE mid = ?`, mid)
}

func accept(t *testing.T, e *env, body string) {
	t.Helper()
	if w := e.post(body, "", sign(body, appSecret)); w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200 (body %q)", w.Code, w.Body)
	}
}

// Deliveries are routed by Page: a connected Page's events reach the
// inbox with its channel; an unknown Page's are counted and dropped
// (security test G-13); the deliveries are deleted once applied.
func TestProcessRoutes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		createIngested(t, d)
		connect(t, d, "ws-1", "ch-1", pageID)
		e := setup(t, d, nil)
		e.process(t)

		accept(t, e, asciiBody)
		settle(t, d)
		if n := count(t, d, `SELECT COUNT(*) FROM test_ingested WHERE mid = ? AND channel_id = 'ch-1' AND workspace_id = 'ws-1'`, asciiMID); n != 1 {
			t.Errorf("the connected page's message was ingested %d times, want once", n)
		}
		var last time.Time
		if err := d.W.NewRaw(`SELECT last_event_at FROM channels WHERE id = 'ch-1'`).Scan(context.Background(), &last); err != nil {
			t.Fatal(err)
		}
		if !last.Equal(e.now) {
			t.Errorf("channel last_event_at = %v, want %v", last, e.now)
		}

		// One body mixing a connected and an unknown Page.
		mixed := `{"object":"page","entry":[` +
			`{"id":"UNKNOWN_PAGE","time":1,"messaging":[{"sender":{"id":"X"},"recipient":{"id":"UNKNOWN_PAGE"},"timestamp":1,"message":{"mid":"m.other.1","text":"a"}},{"sender":{"id":"X"},"recipient":{"id":"UNKNOWN_PAGE"},"timestamp":2,"message":{"mid":"m.other.2","text":"b"}}]},` +
			`{"id":"PAGE_ID","time":1,"messaging":[{"sender":{"id":"Y"},"recipient":{"id":"PAGE_ID"},"timestamp":3,"message":{"mid":"m.mine","text":"c"}}]}]}`
		accept(t, e, mixed)
		settle(t, d)
		if ingested(t, d, "m.mine") != 1 {
			t.Error("the connected page's event in a mixed body was not ingested")
		}
		if n := count(t, d, `SELECT COUNT(*) FROM test_ingested WHERE mid LIKE 'm.other.%'`); n != 0 {
			t.Errorf("%d events of an unknown page reached the inbox", n)
		}
		if n := count(t, d, `SELECT events FROM unknown_accounts WHERE object = 'page' AND external_id = 'UNKNOWN_PAGE'`); n != 2 {
			t.Errorf("unknown page counted %d events, want 2", n)
		}
		if n := deliveries(t, d); n != 0 {
			t.Errorf("%d deliveries left after processing, want 0", n)
		}
		if got := e.counts.get(webhook.OutcomeUnknownPage); got != 1 {
			t.Errorf("unknown_page observed %d times, want 1", got)
		}
	})
}

// Security test G-12: an authentic body that cannot be processed is
// answered 200 and quarantined with a reason that quotes nothing of it;
// its job finishes instead of retrying for ever.
func TestQuarantine(t *testing.T) {
	deep := `{"object":"page","entry":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "}"
	cases := []struct {
		name       string
		body       string
		quarantine bool // false: either outcome is fine, as long as nothing breaks
	}{
		{"not JSON", `hello, world!`, true},
		{"truncated JSON", asciiBody[:100], true},
		{"a JSON array", `[{"object":"page"}]`, true},
		{"10k-deep nesting", deep, true},
		{"whatsapp on the messenger route", khmerEscaped, true},
		{"no object", `{"entry":[]}`, true},
		{"duplicate keys", `{"object":"page","object":"instagram","entry":[]}`, false},
		{"invalid UTF-8", "{\"object\":\"page\",\"entry\":[{\"id\":\"PAGE_ID\",\"messaging\":[{\"sender\":{\"id\":\"\xff\xfe\"},\"recipient\":{\"id\":\"PAGE_ID\"},\"message\":{\"mid\":\"m.utf\",\"text\":\"\xc3\x28\"}}]}]}", false},
		{"huge numbers", `{"object":"page","entry":[{"id":"PAGE_ID","time":1e999999,"messaging":[{"sender":{"id":"P"},"recipient":{"id":"PAGE_ID"},"timestamp":123456789012345678901234567890,"message":{"mid":"m.big","text":"x"}}]}]}`, false},
		{"dashboard test event", `{"object":"page","entry":[{"changes":[{"field":"messages","value":{"page_id":"PAGE_ID"}}],"id":"0","time":1514862760}]}`, false},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		createIngested(t, d)
		connect(t, d, "ws-1", "ch-1", pageID)
		e := setup(t, d, nil)
		e.process(t)
		quarantined := 0
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				accept(t, e, c.body)
				settle(t, d)
				rows := storedRows(t, d)
				if c.quarantine && len(rows) != quarantined+1 {
					t.Fatalf("%d deliveries kept, want %d", len(rows), quarantined+1)
				}
				for _, r := range rows {
					if r.State != "quarantined" {
						t.Errorf("delivery %s left %s", r.ID, r.State)
					}
					if r.Error == "" {
						t.Errorf("delivery %s quarantined without a reason", r.ID)
					}
					for _, secret := range []string{"Sok Dara", "85512345678", "hello", "\\u179f"} {
						if strings.Contains(r.Error, secret) {
							t.Errorf("reason %q quotes the body", r.Error)
						}
					}
				}
				quarantined = len(rows)
			})
		}
		if n := count(t, d, `SELECT COUNT(*) FROM jobs`); n != 0 {
			t.Errorf("%d jobs left (dead or retrying), want none", n)
		}
		if got := e.counts.get(webhook.OutcomeQuarantined); got != quarantined {
			t.Errorf("quarantined observed %d times, %d rows quarantined", got, quarantined)
		}
		var reason string
		if err := d.W.NewRaw(`SELECT error FROM webhook_deliveries ORDER BY id LIMIT 1 OFFSET 4`).Scan(context.Background(), &reason); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(reason, "page") {
			t.Errorf("reason for a whatsapp body = %q, want it to say the object is not page", reason)
		}
	})
}

// Security test G-8: a replayed delivery, sequentially and 50 times at
// once, is answered 200 every time and yields one ingested event.
func TestReplay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		createIngested(t, d)
		connect(t, d, "ws-1", "ch-1", pageID)
		e := setup(t, d, nil)
		e.process(t)

		accept(t, e, asciiBody)
		accept(t, e, asciiBody)
		settle(t, d)
		if n := ingested(t, d, asciiMID); n != 1 {
			t.Errorf("replayed twice: %d events, want 1", n)
		}

		body := messageBody(pageID, "m.burst")
		var wg sync.WaitGroup
		var bad atomic.Int32
		for range 50 {
			wg.Go(func() {
				if w := e.post(body, "", sign(body, appSecret)); w.Code != http.StatusOK {
					bad.Add(1)
				}
			})
		}
		wg.Wait()
		if bad.Load() != 0 {
			t.Fatalf("%d of 50 concurrent copies were not answered 200", bad.Load())
		}
		settle(t, d)
		if n := ingested(t, d, "m.burst"); n != 1 {
			t.Errorf("50 concurrent copies: %d events, want 1", n)
		}
		if n := deliveries(t, d); n != 0 {
			t.Errorf("%d deliveries left, want 0", n)
		}
	})
}

// Batches are applied in the order they were stored, one at a time, even
// with many workers.
func TestProcessOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		createIngested(t, d)
		connect(t, d, "ws-1", "ch-1", pageID)
		rec := &orderInbox{fakeInbox: &fakeInbox{}}
		e := setup(t, d, func(o *webhook.Options) { o.Inbox = rec })
		var want []string
		for i := range 8 {
			mid := fmt.Sprintf("m.order.%d", i)
			want = append(want, mid)
			accept(t, e, messageBody(pageID, mid)) // one batch each: the 200 came first
		}
		if n := processJobs(t, d); n != 8 {
			t.Fatalf("%d jobs, want 8 (one per batch)", n)
		}
		e.process(t)
		settle(t, d)
		if got := rec.order(); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("ingested in order %v, want %v", got, want)
		}
	})
}

// orderInbox records the MIDs in the order Ingest saw them.
type orderInbox struct {
	*fakeInbox
	mu   sync.Mutex
	mids []string
}

func (o *orderInbox) Ingest(ctx context.Context, tx bun.Tx, ch channel.Channel, events []channel.Inbound) (inbox.Effects, error) {
	o.mu.Lock()
	for _, ev := range events {
		o.mids = append(o.mids, ev.MID)
	}
	o.mu.Unlock()
	return o.fakeInbox.Ingest(ctx, tx, ch, events)
}

func (o *orderInbox) order() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.mids...)
}

// Security test P-3: while processing is paused, deliveries are still
// verified, stored and acknowledged, and nothing is applied; on resume the
// backlog is.
func TestPaused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		createIngested(t, d)
		connect(t, d, "ws-1", "ch-1", pageID)
		var paused atomic.Bool
		var checks atomic.Int32
		paused.Store(true)
		e := setup(t, d, func(o *webhook.Options) {
			o.PauseRetry = 20 * time.Millisecond
			o.Paused = func() bool { checks.Add(1); return paused.Load() }
		})
		e.process(t)
		accept(t, e, asciiBody)
		if w := e.post(asciiBody, "", "sha256="+strings.Repeat("0", 64)); w.Code != http.StatusForbidden {
			t.Errorf("bad signature while paused: status %d, want 403", w.Code)
		}
		waitFor(t, "the paused job to look twice", func() bool { return checks.Load() >= 2 })
		if n := count(t, d, `SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'`); n != 1 {
			t.Errorf("%d pending deliveries while paused, want 1", n)
		}
		if n := ingested(t, d, asciiMID); n != 0 || e.inbox.callCount() != 0 {
			t.Errorf("while paused: %d events ingested, %d Ingest calls; want none", n, e.inbox.callCount())
		}
		if n := count(t, d, `SELECT COUNT(*) FROM jobs WHERE state = 'dead'`); n != 0 {
			t.Errorf("%d jobs dead while paused", n)
		}
		paused.Store(false)
		settle(t, d)
		if n := ingested(t, d, asciiMID); n != 1 {
			t.Errorf("after resume: %d events ingested, want 1", n)
		}
	})
}

// A failing inbox rolls the whole processing transaction back: nothing it
// wrote stays, the delivery stays pending, and the retry applies it.
func TestProcessFailureRetries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		createIngested(t, d)
		connect(t, d, "ws-1", "ch-1", pageID)
		e := setup(t, d, nil)
		e.inbox.setFail(errors.New("inbox down"))
		e.process(t)
		accept(t, e, asciiBody)
		waitFor(t, "the first attempt to fail", func() bool {
			return count(t, d, `SELECT COUNT(*) FROM jobs WHERE kind = ? AND last_error <> '' AND state <> 'running'`, webhook.Kind) == 1
		})
		if n := ingested(t, d, asciiMID); n != 0 {
			t.Errorf("a failed attempt left %d events", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'`); n != 1 {
			t.Errorf("%d pending deliveries after a failed attempt, want 1", n)
		}
		e.inbox.setFail(nil)
		settle(t, d)
		if n := ingested(t, d, asciiMID); n != 1 {
			t.Errorf("after the retry: %d events, want 1", n)
		}
		if n := deliveries(t, d); n != 0 {
			t.Errorf("%d deliveries left, want 0", n)
		}
	})
}

// A job whose deliveries are gone (applied by an earlier run whose
// completion was lost in a crash) finishes without doing anything.
func TestProcessIsIdempotent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, nil)
		e.process(t)
		if _, err := e.jobs.Enqueue(context.Background(), nil, webhook.Kind, map[string]any{"ids": []string{"0190c0de-0000-7000-8000-000000000000"}}); err != nil {
			t.Fatal(err)
		}
		settle(t, d)
		if n := count(t, d, `SELECT COUNT(*) FROM jobs`); n != 0 {
			t.Errorf("%d jobs left", n)
		}
		if e.inbox.callCount() != 0 {
			t.Error("Ingest called for deliveries that do not exist")
		}
	})
}

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

	"github.com/parleyhq/parley/internal/db"
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

// settle waits until no delivery is pending. (What a processing
// transaction reports after its commit, Observe outcomes, may come a
// moment later: wait for those with waitFor.)
func settle(t *testing.T, d *db.DB) {
	t.Helper()
	waitFor(t, "processing to finish", func() bool { return pending(t, d) == 0 })
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
		waitFor(t, "unknown_page to be observed", func() bool { return e.counts.get(webhook.OutcomeUnknownPage) >= 1 })
		if got := e.counts.get(webhook.OutcomeUnknownPage); got != 1 {
			t.Errorf("unknown_page observed %d times, want 1", got)
		}
	})
}

// Security test G-12: an authentic body that cannot be processed is
// answered 200 and quarantined with a reason that quotes nothing of it,
// once, and never retried: processing goes on with the next delivery.
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
		waitFor(t, "every quarantine to be observed", func() bool { return e.counts.get(webhook.OutcomeQuarantined) >= quarantined })
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

// Deliveries are applied in the order they were stored, whether the
// processor takes them from memory (it was busy while they arrived) or
// reads them back from the database (it was paused).
func TestProcessOrder(t *testing.T) {
	for _, from := range []string{"memory", "database"} {
		t.Run(from, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				createIngested(t, d)
				connect(t, d, "ws-1", "ch-1", pageID)
				e := setup(t, d, func(o *webhook.Options) { o.ApplyMax = 3 })
				var want []string
				release := func() {}
				if from == "memory" {
					// Caught up first: a delivery stored while the start-up
					// catch-up still reads the database can be applied from
					// there and stay in memory as a copy to skip, which
					// would make the backlog below one longer.
					e.caughtUp(t)
					// The processor applies the next delivery and then
					// waits, outside any transaction, while the rest are
					// stored and handed to it.
					var held <-chan struct{}
					held, release = e.inbox.hold()
					defer release()
					accept(t, e, messageBody(pageID, "m.order.first"))
					<-held
					want = append(want, "m.order.first")
				}
				for i := range 8 {
					mid := fmt.Sprintf("m.order.%d", i)
					want = append(want, mid)
					accept(t, e, messageBody(pageID, mid)) // one batch each: the 200 came first
				}
				if n := pending(t, d); n != 8 {
					t.Fatalf("%d pending deliveries, want 8", n)
				}
				if from == "memory" {
					if n := e.in.Backlog(); n != 8 {
						t.Fatalf("%d deliveries held in memory, want 8", n)
					}
					release()
				} else {
					e.process(t)
				}
				settle(t, d)
				if got := e.inbox.order(); strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("ingested in order %v, want %v", got, want)
				}
			})
		})
	}
}

// Security test P-3: while processing is paused, deliveries are still
// verified, stored and acknowledged, and nothing is applied; on resume the
// backlog is, from the database. The same holds for a pause that begins
// while the processor is working from memory.
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
		accept(t, e, asciiBody)
		if w := e.post(asciiBody, "", "sha256="+strings.Repeat("0", 64)); w.Code != http.StatusForbidden {
			t.Errorf("bad signature while paused: status %d, want 403", w.Code)
		}
		from := checks.Load()
		waitFor(t, "the paused processor to look twice", func() bool { return checks.Load() >= from+2 })
		if n := pending(t, d); n != 1 {
			t.Errorf("%d pending deliveries while paused, want 1", n)
		}
		if n := ingested(t, d, asciiMID); n != 0 || e.inbox.callCount() != 0 {
			t.Errorf("while paused: %d events ingested, %d Ingest calls; want none", n, e.inbox.callCount())
		}
		paused.Store(false)
		settle(t, d)
		if n := ingested(t, d, asciiMID); n != 1 {
			t.Errorf("after resume: %d events ingested, want 1", n)
		}

		// Working from memory now; paused again, the next deliveries wait.
		accept(t, e, messageBody(pageID, "m.before"))
		settle(t, d)
		paused.Store(true)
		from = checks.Load()
		waitFor(t, "the processor to see the pause", func() bool { return checks.Load() >= from+2 })
		calls := e.inbox.callCount()
		accept(t, e, messageBody(pageID, "m.paused.1"))
		accept(t, e, messageBody(pageID, "m.paused.2"))
		from = checks.Load()
		waitFor(t, "the paused processor to look twice", func() bool { return checks.Load() >= from+2 })
		if n := pending(t, d); n != 2 || e.inbox.callCount() != calls {
			t.Errorf("paused again: %d pending, %d new Ingest calls; want 2 and none", n, e.inbox.callCount()-calls)
		}
		paused.Store(false)
		settle(t, d)
		if got := appliedCounts(t, d); got["m.before"] != 1 || got["m.paused.1"] != 1 || got["m.paused.2"] != 1 {
			t.Errorf("applied %v, want each message once", got)
		}
	})
}

// A processing transaction that fails — the inbox returns an error, the
// database does, or something panics — rolls back whole: nothing it wrote
// stays, the delivery stays pending, and the retry (after a backoff,
// reading the database) applies it once.
func TestProcessFailureRetries(t *testing.T) {
	for _, c := range []struct {
		name  string
		inbox error        // the inbox fails with it
		hook  func() error // the transaction runs it first
	}{
		{"inbox error", errors.New("inbox down"), nil},
		{"database error", nil, func() error { return errors.New("disk I/O error") }},
		{"panic", nil, func() error { panic("driver bug") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				createIngested(t, d)
				connect(t, d, "ws-1", "ch-1", pageID)
				e := setup(t, d, nil)
				var (
					attempts atomic.Int32
					failing  atomic.Bool
				)
				e.in.SetBeforeApply(func(bun.Tx) error {
					fail := failing.Load() && c.hook != nil
					attempts.Add(1) // after deciding: the test waits for this
					if fail {
						return c.hook()
					}
					return nil
				})
				e.process(t)
				settle(t, d) // the start's catch-up found nothing
				failing.Store(true)
				e.inbox.setFail(c.inbox)
				before, calls := attempts.Load(), e.inbox.callCount()
				accept(t, e, asciiBody)
				waitFor(t, "the first attempt to fail", func() bool {
					if c.inbox != nil {
						return e.inbox.callCount() > calls
					}
					return attempts.Load() > before
				})
				if n := ingested(t, d, asciiMID); n != 0 {
					t.Errorf("a failed attempt left %d events", n)
				}
				if n := pending(t, d); n != 1 {
					t.Errorf("%d pending deliveries after a failed attempt, want 1", n)
				}
				waitFor(t, "the failure to be observed", func() bool { return e.counts.get(webhook.OutcomeFailed) >= 1 })
				failing.Store(false)
				e.inbox.setFail(nil)
				settle(t, d)
				if n := ingested(t, d, asciiMID); n != 1 {
					t.Errorf("after the retry: %d events, want 1", n)
				}
				if got := appliedCounts(t, d)[asciiMID]; got != 1 {
					t.Errorf("applied %d times by committed transactions, want once", got)
				}
				if n := deliveries(t, d); n != 0 {
					t.Errorf("%d deliveries left, want 0", n)
				}
				// And processing goes on afterwards.
				accept(t, e, messageBody(pageID, "m.after"))
				settle(t, d)
				if n := ingested(t, d, "m.after"); n != 1 {
					t.Errorf("after recovering: %d events, want 1", n)
				}
			})
		})
	}
}

// Applying the same deliveries again — a catch-up read and memory
// overlapping, or another replica having got there first — changes
// nothing: the claim gives each delivery to one transaction, a quarantine
// happens once, and the inbox is not called for what is gone.
func TestProcessIsIdempotent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		createIngested(t, d)
		connect(t, d, "ws-1", "ch-1", pageID)
		e := setup(t, d, nil) // held: only the test processes
		accept(t, e, messageBody(pageID, "m.idem"))
		accept(t, e, "not json")
		rows := storedRows(t, d)
		if len(rows) != 2 {
			t.Fatalf("%d deliveries stored, want 2", len(rows))
		}
		run, err := e.in.StoredChunk(rows[0].ID, rows[1].ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := run()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != rows[0].ID {
			t.Errorf("first run applied %v, want [%s]", got, rows[0].ID)
		}
		calls := e.inbox.callCount()
		got, err = run()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Errorf("second run applied %v, want nothing", got)
		}
		if e.inbox.callCount() != calls {
			t.Error("Ingest called for deliveries already applied")
		}
		if n := appliedCounts(t, d)["m.idem"]; n != 1 {
			t.Errorf("m.idem applied %d times, want once", n)
		}
		if n := e.counts.get(webhook.OutcomeQuarantined); n != 1 {
			t.Errorf("quarantined observed %d times, want once", n)
		}
		if rows := storedRows(t, d); len(rows) != 1 || rows[0].State != "quarantined" {
			t.Errorf("left %+v, want the bad delivery quarantined", rows)
		}
	})
}

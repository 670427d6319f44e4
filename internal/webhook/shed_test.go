package webhook_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/webhook"
)

// shedLag is the MaxLag of these tests: short, so they wait little, and
// every wait below is a multiple of it.
const shedLag = 300 * time.Millisecond

// Under load beyond capacity, processing falls behind; once the oldest
// delivery waiting arrived more than MaxLag ago, new deliveries are
// answered 503 with Retry-After and nothing of them is stored (Meta
// delivers them again, meta-platform.md §1.4), so the backlog — and the
// time a message waits — stays bounded. Once processing has caught up,
// deliveries are stored again. Issue 3's overload target.
func TestShedWhileBehind(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		createIngested(t, d)
		connect(t, d, "ws-1", "ch-1", pageID)
		e := setup(t, d, func(o *webhook.Options) { o.MaxLag = shedLag })
		e.caughtUp(t) // shedding applies from here

		// The processor takes the next delivery and then stalls, as a
		// slow transaction would.
		held, release := e.inbox.hold()
		defer release()
		accept(t, e, messageBody(pageID, "m.shed.first"))
		<-held
		accept(t, e, messageBody(pageID, "m.shed.second")) // not behind yet
		time.Sleep(2 * shedLag)

		body := messageBody(pageID, "m.shed.later")
		w := e.post(body, "", sign(body, appSecret))
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
			t.Fatalf("while behind: status %d, Retry-After %q; want 503 and 1 (body %s)", w.Code, w.Header().Get("Retry-After"), w.Body)
		}
		if got := e.counts.get(webhook.OutcomeShed); got != 1 {
			t.Errorf("shed observed %d times, want 1", got)
		}
		if n := pending(t, d); n != 1 {
			t.Errorf("%d deliveries pending, want 1 (m.shed.second; the refused one is not stored)", n)
		}

		release()
		settle(t, d)
		waitFor(t, "the processor to go idle", func() bool {
			w := e.post(body, "", sign(body, appSecret)) // Meta's redelivery
			return w.Code == http.StatusOK
		})
		settle(t, d)
		for _, mid := range []string{"m.shed.first", "m.shed.second", "m.shed.later"} {
			if n := ingested(t, d, mid); n != 1 {
				t.Errorf("%s ingested %d times, want 1", mid, n)
			}
		}
	})
}

// The backlog a kill switch pause builds is acknowledged while paused
// (security.md P-3) and drained on resume without refusing anything,
// however old it is: shedding waits until processing has caught up.
func TestPauseBacklogIsNeverShed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		createIngested(t, d)
		connect(t, d, "ws-1", "ch-1", pageID)
		e := setup(t, d, func(o *webhook.Options) { o.MaxLag = shedLag })
		e.caughtUp(t)

		e.held.Store(true) // paused
		accept(t, e, messageBody(pageID, "m.pause.old"))
		time.Sleep(2 * shedLag)
		accept(t, e, messageBody(pageID, "m.pause.during"))

		// Resumed: the catch-up applies the old backlog first and stalls
		// there; a delivery arriving meanwhile is still taken.
		held, release := e.inbox.hold()
		defer release()
		e.process(t)
		<-held
		accept(t, e, messageBody(pageID, "m.pause.after"))
		release()
		settle(t, d)
		for _, mid := range []string{"m.pause.old", "m.pause.during", "m.pause.after"} {
			if n := ingested(t, d, mid); n != 1 {
				t.Errorf("%s ingested %d times, want 1", mid, n)
			}
		}
		if got := e.counts.get(webhook.OutcomeShed); got != 0 {
			t.Errorf("shed %d deliveries of a paused backlog, want none", got)
		}
	})
}

package webhook_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/webhook"
)

// Security test P-3 per workspace (promise P-37): with one workspace's
// processing paused, its deliveries are still acknowledged and stored but
// set aside, while another workspace's flow; a delivery naming both is
// held whole; on resume the held ones are applied once each, in arrival
// order, before anything newer of that workspace.
func TestHeldWorkspace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		createIngested(t, d)
		connect(t, d, "ws-1", "ch-1", "PAGE_1")
		connect(t, d, "ws-2", "ch-2", "PAGE_2")
		var held atomic.Pointer[map[string]bool]
		set := func(ws ...string) {
			m := map[string]bool{}
			for _, w := range ws {
				m[w] = true
			}
			held.Store(&m)
		}
		var asked atomic.Int32
		set("ws-1")
		e := setup(t, d, func(o *webhook.Options) {
			o.Held = func() map[string]bool { asked.Add(1); return *held.Load() }
		})
		e.process(t)
		accept(t, e, messageBody("PAGE_1", "m1"))
		accept(t, e, messageBody("PAGE_2", "n1"))
		accept(t, e, twoPages("PAGE_1", "m2", "PAGE_2", "n2"))
		accept(t, e, messageBody("PAGE_1", "m3"))
		accept(t, e, messageBody("PAGE_2", "n3"))
		waitFor(t, "ws-2's deliveries to be applied", func() bool {
			got := appliedCounts(t, d)
			return got["n1"] == 1 && got["n3"] == 1
		})
		waitFor(t, "ws-1's deliveries to be set aside", func() bool {
			return count(t, d, `SELECT COUNT(*) FROM webhook_deliveries WHERE held_for = 'ws-1' AND state = 'pending'`) == 3
		})
		if got := appliedCounts(t, d); got["m1"]+got["m2"]+got["m3"]+got["n2"] != 0 {
			t.Errorf("applied while held: %v", got)
		}
		// Held deliveries are not read again round after round.
		from := asked.Load()
		waitFor(t, "a few more rounds", func() bool { return asked.Load() >= from+3 })
		if got := appliedCounts(t, d); got["m1"] != 0 {
			t.Errorf("m1 applied while held: %v", got)
		}

		set() // resume ws-1
		accept(t, e, messageBody("PAGE_1", "m4"))
		settle(t, d)
		got := appliedCounts(t, d)
		for _, mid := range []string{"m1", "m2", "m3", "m4", "n1", "n2", "n3"} {
			if got[mid] != 1 {
				t.Errorf("%s applied %d times, want once (all: %v)", mid, got[mid], got)
			}
		}
		var ws1 []string
		for _, mid := range e.inbox.order() {
			if strings.HasPrefix(mid, "m") {
				ws1 = append(ws1, mid)
			}
		}
		if strings.Join(ws1, " ") != "m1 m2 m3 m4" {
			t.Errorf("ws-1 applied in order %v, want m1 m2 m3 m4", ws1)
		}
		if n := deliveries(t, d); n != 0 {
			t.Errorf("%d deliveries left", n)
		}
	})
}

// A delivery a stopped process left held for a workspace that has resumed
// since is released by the next process and applied.
func TestHeldLeftByAnEarlierProcess(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		createIngested(t, d)
		connect(t, d, "ws-1", "ch-1", "PAGE_1")
		e := setup(t, d, func(o *webhook.Options) {
			o.Held = func() map[string]bool { return nil }
		})
		accept(t, e, messageBody("PAGE_1", "m1"))
		// As if an earlier process had held it: the processor is still
		// paused (env), so it has not looked at it yet.
		if _, err := d.W.NewRaw(`UPDATE webhook_deliveries SET held_for = 'ws-1'`).Exec(t.Context()); err != nil {
			t.Fatal(err)
		}
		e.process(t)
		settle(t, d)
		if got := appliedCounts(t, d); got["m1"] != 1 {
			t.Errorf("applied %v, want m1 once", got)
		}
	})
}

// twoPages is one delivery with an entry for each of two Pages.
func twoPages(page1, mid1, page2, mid2 string) string {
	entry := func(page, mid string) string {
		return fmt.Sprintf(`{"id":%q,"time":1458692752478,"messaging":[{"sender":{"id":"PSID"},"recipient":{"id":%q},"timestamp":1458692752478,"message":{"mid":%q,"text":"hi"}}]}`, page, page, mid)
	}
	return `{"object":"page","entry":[` + entry(page1, mid1) + `,` + entry(page2, mid2) + `]}`
}

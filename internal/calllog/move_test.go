package calllog_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/calllog"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-28 after a merge (P-25): the merged person keeps the call keys
// of both contacts, a key both had once, so uploading the same calls again
// adds nothing; the call entries move with the activity log.
func TestMoveContact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		keep := e.lead(t, ws, "keep", "+85512345678")
		gone := e.lead(t, ws, "gone", "+85512345678")
		if _, err := e.contacts.SetField(ctx, nil, ws, gone, "mobile", "+85517000111", contact.SetOptions{By: byAgent}); err != nil {
			t.Fatal(err)
		}
		other := e.lead(t, ws, "other", "+85599888777")
		start := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
		calls := []calllog.Call{
			{Number: "+85512345678", Direction: calllog.In, Type: calllog.Answered, Duration: 30, At: start},      // both
			{Number: "+85517000111", Direction: calllog.Out, Type: calllog.Missed, At: start.Add(time.Minute)},    // gone only
			{Number: "+85599888777", Direction: calllog.In, Type: calllog.Missed, At: start.Add(2 * time.Minute)}, // other
		}
		if res := e.sync(t, ws, calls...); res.Matched != 3 {
			t.Fatalf("first upload: %+v", res)
		}
		keys := func(contactID string) int {
			t.Helper()
			var n int
			if err := d.R.NewRaw(`SELECT count(*) FROM call_log_seen WHERE workspace_id = ? AND contact_id = ?`, ws, contactID).Scan(ctx, &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if k, g := keys(keep), keys(gone); k != 1 || g != 2 {
			t.Fatalf("before the merge: %d and %d keys", k, g)
		}

		if _, err := e.contacts.Merge(ctx, admin, ws, keep, gone, e.syncer.MoveContact, e.activity.MoveContact); err != nil {
			t.Fatal(err)
		}

		if k, g, o := keys(keep), keys(gone), keys(other); k != 2 || g != 0 || o != 1 {
			t.Errorf("after the merge: kept %d keys (want 2), gone %d (want 0), other %d (want 1)", k, g, o)
		}
		// The gone contact's calls are on the kept contact's log.
		if n := len(e.calls(t, ws, keep)); n != 3 {
			t.Errorf("the kept contact has %d call entries, want 3 (its own, and the gone one's two)", n)
		}
		// Uploading the same calls again adds nothing to anyone.
		res := e.sync(t, ws, calls...)
		if diff := cmp.Diff(calllog.Result{Duplicates: 3, Problems: []calllog.Problem{}}, res); diff != "" {
			t.Errorf("second upload (-want +got):\n%s", diff)
		}
		if n := rows(t, d, "contact_activity"); n != 4 {
			t.Errorf("%d activity entries, want 4", n)
		}
	})
}

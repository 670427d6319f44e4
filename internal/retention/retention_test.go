package retention_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/retention"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

var admin = audit.Actor{UserID: "u-admin"}

// Promise P-35, N-2: each class's default and the range a workspace may
// choose from; everything outside is refused with the range in words.
func TestLimitsCheck(t *testing.T) {
	cases := []struct {
		class retention.Class
		days  int
		ok    bool
	}{
		{retention.ClassMessages, 0, true}, // lifetime
		{retention.ClassMessages, 1, true},
		{retention.ClassMessages, 3650, true},
		{retention.ClassMessages, -1, false},
		{retention.ClassAttachments, 0, true},
		{retention.ClassRawPayloads, 90, true},
		{retention.ClassRawPayloads, 91, false},
		{retention.ClassRawPayloads, 0, false}, // no "forever" for payloads
		{retention.ClassRawPayloads, 1, true},
		{retention.ClassOperational, 90, true},
		{retention.ClassOperational, 91, false},
		{retention.ClassAuditLog, 364, false}, // a year at least (P-06)
		{retention.ClassAuditLog, 365, true},
		{retention.ClassAuditLog, 730, true},
		{retention.ClassAuditLog, 731, false},
		{retention.ClassExports, 30, true},
		{retention.ClassExports, 31, false},
		{retention.ClassExports, 0, false},
	}
	for _, c := range cases {
		l, ok := retention.LimitOf(c.class)
		if !ok {
			t.Fatalf("no limit for %s", c.class)
		}
		err := l.Check(c.days)
		if (err == nil) != c.ok {
			t.Errorf("%s %d days: err %v, want ok=%v", c.class, c.days, err, c.ok)
		}
		var inv *retention.InvalidError
		if err != nil && (!errors.As(err, &inv) || inv.Field != string(c.class) || !strings.Contains(inv.Message, " day")) {
			t.Errorf("%s %d days: error %#v does not name the class and its range", c.class, c.days, err)
		}
	}
	want := map[retention.Class]int{retention.ClassMessages: 0, retention.ClassAttachments: 0, retention.ClassRawPayloads: 90,
		retention.ClassOperational: 90, retention.ClassAuditLog: 365, retention.ClassExports: 7}
	got := map[retention.Class]int{}
	for _, l := range retention.Limits() {
		got[l.Class] = l.Default
		if err := l.Check(l.Default); err != nil {
			t.Errorf("%s: the default is outside its own range: %v", l.Class, err)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("defaults (-want +got):\n%s", d)
	}
}

// N-2: an override within range is kept and honoured; one out of range
// (or an unknown class) changes nothing at all, not even the valid
// values sent with it.
func TestSetSettings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, retention.Options{})
		tn := e.tenant(t)
		ctx := context.Background()
		set, err := e.svc.Settings(ctx, tn.ws)
		if err != nil {
			t.Fatal(err)
		}
		if set.Days(retention.ClassRawPayloads) != 90 || set.Days(retention.ClassMessages) != retention.Lifetime || set.Hold != nil {
			t.Fatalf("defaults: %+v", set)
		}
		set, err = e.svc.Set(ctx, admin, tn.ws, map[retention.Class]int{retention.ClassMessages: 30, retention.ClassAuditLog: 400})
		if err != nil {
			t.Fatal(err)
		}
		if set.Days(retention.ClassMessages) != 30 || set.Days(retention.ClassAuditLog) != 400 || set.Days(retention.ClassExports) != 7 {
			t.Fatalf("after set: %+v", set)
		}
		for _, bad := range []map[retention.Class]int{
			{retention.ClassMessages: 10, retention.ClassRawPayloads: 120},
			{retention.ClassAuditLog: 30},
			{"billing": 10},
		} {
			_, err := e.svc.Set(ctx, admin, tn.ws, bad)
			var inv *retention.InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("set %v: %v, want an InvalidError", bad, err)
			}
		}
		got, err := e.svc.Settings(ctx, tn.ws)
		if err != nil {
			t.Fatal(err)
		}
		if got.Days(retention.ClassMessages) != 30 || got.Days(retention.ClassRawPayloads) != 90 || got.Days(retention.ClassAuditLog) != 400 {
			t.Fatalf("a refused change changed something: %+v", got)
		}
		// A value the limits no longer allow (stored before they were
		// tightened) falls back to the default.
		e.exec(t, `UPDATE retention_settings SET days = 500 WHERE workspace_id = ? AND class = 'message_content'`, tn.ws)
		e.exec(t, `INSERT INTO retention_settings (workspace_id, class, days, updated_at) VALUES (?, 'raw_payloads', 400, ?)`, tn.ws, e.clk.Now())
		got, _ = e.svc.Settings(ctx, tn.ws)
		if got.Days(retention.ClassRawPayloads) != 90 || got.Days(retention.ClassMessages) != 500 {
			t.Fatalf("stored out-of-range value honoured: %+v", got)
		}
		if n := e.count(t, `SELECT count(*) FROM audit_log WHERE workspace_id = ? AND action = 'retention.update'`, tn.ws); n != 1 {
			t.Fatalf("audit entries for changes: %d, want 1", n)
		}
	})
}

// N-1: raw payloads received 89 d 23 h, exactly 90 d and 90 d + 1 s ago:
// only the one older than 90 days goes. The boundary is exclusive: a row
// exactly as old as the period stays. The same holds for a workspace's
// messages under a 90-day setting.
func TestBoundary(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, retention.Options{})
		now := e.clk.Now()
		young := e.delivery(t, ago(now, 89, 23*time.Hour))
		exact := e.delivery(t, ago(now, 90, 0))
		e.delivery(t, ago(now, 90, time.Second))
		// A pending delivery was acknowledged to Meta and is still to be
		// applied (a long kill-switch pause): retention never loses it.
		pending := newID()
		e.exec(t, `INSERT INTO webhook_deliveries (id, source, body, state, received_at) VALUES (?, 'meta', ?, 'pending', ?)`,
			pending, []byte("sealed"), ago(now, 400, 0))

		tn := e.tenant(t)
		if _, err := e.svc.Set(context.Background(), admin, tn.ws, map[retention.Class]int{retention.ClassMessages: 90}); err != nil {
			t.Fatal(err)
		}
		m1 := e.message(t, tn, tn.contact, tn.conversation, ago(now, 89, 23*time.Hour))
		m2 := e.message(t, tn, tn.contact, tn.conversation, ago(now, 90, 0))
		e.message(t, tn, tn.contact, tn.conversation, ago(now, 90, time.Second))

		rep := e.run(t)
		if got, want := e.strings(t, `SELECT id FROM webhook_deliveries`), sorted(young, exact, pending); !slices.Equal(got, want) {
			t.Errorf("deliveries left %v, want %v", got, want)
		}
		if got, want := e.strings(t, `SELECT id FROM messages`), sorted(m1, m2); !slices.Equal(got, want) {
			t.Errorf("messages left %v, want %v", got, want)
		}
		if rep.Platform[retention.ClassRawPayloads] != 1 || rep.Deleted[retention.ClassMessages] != 1 {
			t.Errorf("report %+v", rep)
		}
		// One second later the 90-day-old ones have passed the period.
		e.clk.Set(now.Add(time.Second))
		e.run(t)
		if got, want := e.strings(t, `SELECT id FROM webhook_deliveries`), sorted(young, pending); !slices.Equal(got, want) {
			t.Errorf("a second later deliveries left %v, want %v", got, want)
		}
	})
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// N-3: expired messages take their derived copies with them, in the same
// transaction: their search documents and postings, and whatever a hook
// (media objects, the search index's own Forget) removes. Messages of the
// lifetime setting and young ones keep theirs; messages still queued are
// not touched.
func TestDerivedCopiesGoWithMessages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, retention.Options{})
		var hooked []string
		e.svc.OnMessagesDeleted("media", func(ctx context.Context, tx bun.Tx, ws string, ids []string) error {
			// In the transaction, before the delete: the rows are still there.
			var n int
			if err := tx.NewRaw(`SELECT count(*) FROM messages WHERE workspace_id = ? AND id IN (?)`, ws, bun.In(ids)).Scan(ctx, &n); err != nil {
				return err
			}
			if n != len(ids) {
				t.Errorf("hook saw %d of %d messages", n, len(ids))
			}
			hooked = append(hooked, ids...)
			return nil
		})
		now := e.clk.Now()
		tn, other := e.tenant(t), e.tenant(t)
		if _, err := e.svc.Set(context.Background(), admin, tn.ws, map[retention.Class]int{retention.ClassMessages: 30}); err != nil {
			t.Fatal(err)
		}
		old1 := e.message(t, tn, tn.contact, tn.conversation, ago(now, 40, 0))
		old2 := e.message(t, tn, tn.contact, tn.conversation, ago(now, 31, 0))
		keep := e.message(t, tn, tn.contact, tn.conversation, ago(now, 5, 0))
		queued := e.message(t, tn, tn.contact, tn.conversation, ago(now, 40, 0))
		e.exec(t, `UPDATE messages SET status = 'queued', direction = 'out', sender_type = 'agent' WHERE id = ?`, queued)
		lifetime := e.message(t, other, other.contact, other.conversation, ago(now, 4000, 0)) // other workspace: lifetime default

		e.run(t)
		if got, want := e.strings(t, `SELECT id FROM messages`), sorted(keep, queued, lifetime); !slices.Equal(got, want) {
			t.Fatalf("messages left %v, want %v", got, want)
		}
		if got, want := e.strings(t, `SELECT message_id FROM search_docs`), sorted(keep, queued, lifetime); !slices.Equal(got, want) {
			t.Errorf("search documents left for %v, want %v", got, want)
		}
		if n := e.count(t, `SELECT count(*) FROM search_grams g WHERE NOT EXISTS (SELECT 1 FROM search_docs s WHERE s.id = g.doc)`); n != 0 {
			t.Errorf("%d postings outlived their document", n)
		}
		if n := e.count(t, `SELECT count(*) FROM search_grams`); n != 6 {
			t.Errorf("postings: %d, want 6 (two for each message left)", n)
		}
		if got, want := sorted(hooked...), sorted(old1, old2); !slices.Equal(got, want) {
			t.Errorf("hook got %v, want %v", got, want)
		}
	})
}

// N-4: a run stopped between batches leaves whole batches done; the next
// run finishes the rest without errors, and both runs are audit-logged
// (the stopped one marked so).
func TestStoppedRunResumes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stopAfter := 2
		e := newEnv(t, d, retention.Options{BatchSize: 5, Between: func(ctx context.Context, b retention.Batch) error {
			if b.Table == "messages" {
				stopAfter--
				if stopAfter == 0 {
					cancel() // as a shutdown would, mid-run
				}
			}
			return nil
		}})
		now := e.clk.Now()
		tn := e.tenant(t)
		if _, err := e.svc.Set(context.Background(), admin, tn.ws, map[retention.Class]int{retention.ClassMessages: 1}); err != nil {
			t.Fatal(err)
		}
		for i := range 23 {
			e.message(t, tn, tn.contact, tn.conversation, ago(now, 2, time.Duration(i)*time.Minute))
		}
		rep, err := e.svc.Run(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("stopped run: %v, want context.Canceled", err)
		}
		if rep.Deleted[retention.ClassMessages] != 10 {
			t.Fatalf("stopped run deleted %d, want two whole batches of 5", rep.Deleted[retention.ClassMessages])
		}
		if n := e.count(t, `SELECT count(*) FROM messages`); n != 13 {
			t.Fatalf("after the stopped run %d messages, want 13", n)
		}
		rep = e.run(t)
		if rep.Deleted[retention.ClassMessages] != 13 {
			t.Fatalf("rerun deleted %d, want 13", rep.Deleted[retention.ClassMessages])
		}
		if n := e.count(t, `SELECT count(*) FROM messages`) + e.count(t, `SELECT count(*) FROM search_docs`); n != 0 {
			t.Fatalf("%d messages or documents left", n)
		}
		var details []string
		if err := d.R.NewRaw(`SELECT details FROM audit_log WHERE action = 'retention.run' ORDER BY id`).Scan(context.Background(), &details); err != nil {
			t.Fatal(err)
		}
		if len(details) != 2 || !strings.Contains(details[0], `"stopped":true`) || strings.Contains(details[1], "stopped") {
			t.Fatalf("run entries %v, want a stopped one then a complete one", details)
		}
		// Nothing left: a third run deletes nothing and fails nothing.
		if rep := e.run(t); rep.Deleted[retention.ClassMessages] != 0 {
			t.Fatalf("third run deleted %d", rep.Deleted[retention.ClassMessages])
		}
	})
}

// N-5: every transaction deletes at most the batch size (here 7: 30 rows
// take batches of 7, 7, 7, 7 and 2), and the run yields between batches.
func TestBoundedBatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, retention.Options{BatchSize: 7})
		now := e.clk.Now()
		tn := e.tenant(t)
		if _, err := e.svc.Set(context.Background(), admin, tn.ws, map[retention.Class]int{retention.ClassMessages: 10}); err != nil {
			t.Fatal(err)
		}
		for i := range 30 {
			e.message(t, tn, tn.contact, tn.conversation, ago(now, 11, time.Duration(i)*time.Second))
		}
		for i := range 9 {
			e.delivery(t, ago(now, 91, time.Duration(i)*time.Second))
		}
		e.run(t)
		sizes := map[string][]int{}
		for _, b := range e.batches {
			if b.Deleted > b.Limit || b.Limit != 7 {
				t.Errorf("batch %+v is over the bound of 7", b)
			}
			sizes[b.Table] = append(sizes[b.Table], b.Deleted)
		}
		want := map[string][]int{"messages": {7, 7, 7, 7, 2}, "webhook_deliveries": {7, 2}}
		if d := cmp.Diff(want, sizes); d != "" {
			t.Errorf("batches (-want +got):\n%s", d)
		}
	})
}

// N-6: the audit log is kept a year by default (the database itself
// refuses to delete younger entries), platform entries too; exports (a
// registered class) are purged at their period with the batch size; the
// run writes one platform entry with counts and one per workspace that
// lost rows, with counts and nothing personal.
func TestAuditLogAndRegisteredClasses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, retention.Options{BatchSize: 50})
		type call struct {
			ws     string
			before time.Time
			limit  int
		}
		var calls []call
		left := 3
		e.svc.Register(retention.ClassExports, func(ctx context.Context, ws string, before time.Time, limit int) (int, error) {
			calls = append(calls, call{ws, before, limit})
			n := min(left, limit)
			left -= n
			return n, nil
		})
		now := e.clk.Now()
		tn := e.tenant(t)
		insertAudit := func(ws any, at time.Time) string {
			id := newID()
			e.exec(t, `INSERT INTO audit_log (id, workspace_id, action, created_at) VALUES (?, ?, 'test.old', ?)`, id, ws, at)
			return id
		}
		insertAudit(tn.ws, ago(now, 367, 0))
		keptWS := insertAudit(tn.ws, ago(now, 363, 0))
		insertAudit(nil, ago(now, 370, 0))
		keptPlatform := insertAudit(nil, ago(now, 300, 0))

		rep := e.run(t)
		if got := e.strings(t, `SELECT id FROM audit_log WHERE action = 'test.old'`); !slices.Equal(got, sorted(keptWS, keptPlatform)) {
			t.Errorf("audit entries left %v, want %v", got, sorted(keptWS, keptPlatform))
		}
		if rep.Deleted[retention.ClassAuditLog] != 1 || rep.Platform[retention.ClassAuditLog] != 1 || rep.Deleted[retention.ClassExports] != 3 {
			t.Errorf("report %+v", rep)
		}
		if len(calls) != 1 || calls[0].ws != tn.ws || !calls[0].before.Equal(now.Add(-7*24*time.Hour)) || calls[0].limit != 50 {
			t.Errorf("export purger calls %+v, want one for the workspace before now−7d with limit 50", calls)
		}
		var entries []audit.Entry
		if err := d.R.NewSelect().Model(&entries).Where("action LIKE 'retention.%'").OrderExpr("id").Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 {
			t.Fatalf("retention entries %+v, want purged + run", entries)
		}
		var purged, run struct {
			Deleted    map[string]int
			Platform   map[string]int
			Workspaces int
		}
		if entries[0].Action != "retention.purged" || entries[0].WorkspaceID == nil || *entries[0].WorkspaceID != tn.ws {
			t.Fatalf("first entry %+v, want the workspace's purge", entries[0])
		}
		if err := json.Unmarshal(entries[0].Details, &purged); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(map[string]int{"audit_log": 1, "exports": 3}, purged.Deleted); d != "" {
			t.Errorf("workspace entry counts (-want +got):\n%s", d)
		}
		if entries[1].Action != "retention.run" || entries[1].WorkspaceID != nil {
			t.Fatalf("second entry %+v, want the platform's run", entries[1])
		}
		if err := json.Unmarshal(entries[1].Details, &run); err != nil {
			t.Fatal(err)
		}
		if run.Workspaces != 1 || run.Platform["audit_log"] != 1 || run.Deleted["exports"] != 3 {
			t.Errorf("run entry %s", entries[1].Details)
		}
		for _, en := range entries {
			if strings.Contains(string(en.Details), tn.contact) || strings.Contains(string(en.Details), "psid") {
				t.Errorf("entry %s names a person", en.Details)
			}
		}
	})
}

// N-7: a workspace hold stops every deletion of the workspace (its own
// classes and the registered ones); a contact hold keeps that contact's
// messages while the others' go; releasing a hold lets the next run
// delete. Holds are audit-logged without their reason.
func TestLegalHold(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, retention.Options{})
		ctx := context.Background()
		registered := 0
		e.svc.Register(retention.ClassExports, func(ctx context.Context, ws string, before time.Time, limit int) (int, error) {
			registered++
			return 0, nil
		})
		now := e.clk.Now()
		tn := e.tenant(t)
		heldContact, heldConv := e.contact(t, tn)
		if _, err := e.svc.Set(ctx, admin, tn.ws, map[retention.Class]int{retention.ClassMessages: 10}); err != nil {
			t.Fatal(err)
		}
		free := e.message(t, tn, tn.contact, tn.conversation, ago(now, 20, 0))
		held := e.message(t, tn, heldContact, heldConv, ago(now, 20, 0))

		if _, err := e.svc.PlaceHold(ctx, admin, tn.ws, "", "Case 2026-114 (lawyer Jane Roe)"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.PlaceHold(ctx, admin, tn.ws, heldContact, "Dispute"); err != nil {
			t.Fatal(err)
		}
		e.run(t)
		if got := e.strings(t, `SELECT id FROM messages`); !slices.Equal(got, sorted(free, held)) {
			t.Fatalf("workspace on hold lost messages: left %v", got)
		}
		if registered != 0 {
			t.Errorf("registered purger ran %d times for a workspace on hold", registered)
		}

		if err := e.svc.ReleaseHold(ctx, admin, tn.ws, ""); err != nil {
			t.Fatal(err)
		}
		e.run(t)
		if got := e.strings(t, `SELECT id FROM messages`); !slices.Equal(got, []string{held}) {
			t.Fatalf("with only the contact on hold: left %v, want the held contact's %v", got, held)
		}
		if err := e.svc.ReleaseHold(ctx, admin, tn.ws, heldContact); err != nil {
			t.Fatal(err)
		}
		e.run(t)
		if n := e.count(t, `SELECT count(*) FROM messages`); n != 0 {
			t.Fatalf("after release %d messages left", n)
		}
		if n := e.count(t, `SELECT count(*) FROM audit_log WHERE details LIKE '%Jane%' OR details LIKE '%Dispute%'`); n != 0 {
			t.Errorf("a hold's reason reached the audit log")
		}
		if n := e.count(t, `SELECT count(*) FROM audit_log WHERE action IN ('retention.hold','retention.release')`); n != 4 {
			t.Errorf("hold entries: %d, want 4", n)
		}
	})
}

// Holds: a contact of another workspace is not found, a reason is
// required, placing twice updates the reason, releasing what is not held
// is not found.
func TestHoldInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, retention.Options{})
		ctx := context.Background()
		tn, other := e.tenant(t), e.tenant(t)
		if _, err := e.svc.PlaceHold(ctx, admin, tn.ws, other.contact, "Case"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("foreign contact: %v, want ErrNotFound", err)
		}
		var inv *retention.InvalidError
		if _, err := e.svc.PlaceHold(ctx, admin, tn.ws, "", "  "); !errors.As(err, &inv) || inv.Field != "reason" {
			t.Errorf("blank reason: %v", err)
		}
		if _, err := e.svc.PlaceHold(ctx, admin, tn.ws, "", strings.Repeat("x", retention.MaxReasonRunes+1)); !errors.As(err, &inv) {
			t.Errorf("long reason: %v", err)
		}
		if err := e.svc.ReleaseHold(ctx, admin, tn.ws, ""); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("release without hold: %v", err)
		}
		h1, err := e.svc.PlaceHold(ctx, admin, tn.ws, tn.contact, "First")
		if err != nil {
			t.Fatal(err)
		}
		h2, err := e.svc.PlaceHold(ctx, admin, tn.ws, tn.contact, "Second")
		if err != nil {
			t.Fatal(err)
		}
		holds, err := e.svc.Holds(ctx, tn.ws)
		if err != nil {
			t.Fatal(err)
		}
		if h1.ID != h2.ID || len(holds) != 1 || holds[0].Reason != "Second" || holds[0].ContactID != tn.contact {
			t.Fatalf("holds %+v", holds)
		}
		set, _ := e.svc.Settings(ctx, tn.ws)
		if set.ContactHolds != 1 || set.Hold != nil {
			t.Errorf("settings holds %+v", set)
		}
		if n := e.count(t, `SELECT count(*) FROM retention_holds WHERE workspace_id = ?`, other.ws); n != 0 {
			t.Errorf("other workspace has %d holds", n)
		}
		// Erasing the contact removes its hold.
		e.exec(t, `DELETE FROM contacts WHERE id = ?`, tn.contact)
		if n := e.count(t, `SELECT count(*) FROM retention_holds`); n != 0 {
			t.Errorf("%d holds outlived their contact", n)
		}
	})
}

// Operational logs of a workspace (flow errors, finished imports with
// their reports, ended invitations, Facebook logins, redelivery keys) and
// of the platform (unknown accounts, dead jobs, ended sessions) go 90
// days after they ended; running imports, pending invitations, live
// sessions and pending jobs stay.
func TestOperationalLogs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, retention.Options{})
		now := e.clk.Now()
		old, recent := ago(now, 91, 0), ago(now, 10, 0)
		tn := e.tenant(t)
		flow := newID()
		e.exec(t, `INSERT INTO flows (id, workspace_id, name, draft, draft_updated_at, created_at, updated_at) VALUES (?, ?, 'F', ?, ?, ?, ?)`,
			flow, tn.ws, []byte("x"), now, now, now)
		for _, at := range []time.Time{old, recent} {
			e.exec(t, `INSERT INTO flow_errors (id, workspace_id, flow_id, version, message, at) VALUES (?, ?, ?, 1, 'loop stopped', ?)`, newID(), tn.ws, flow, at)
			e.exec(t, `INSERT INTO channel_logins (id, workspace_id, user_id, created_at, expires_at) VALUES (?, ?, 'u', ?, ?)`, newID(), tn.ws, at, at)
			e.exec(t, `INSERT INTO inbound_keys (channel_id, key, created_at) VALUES (?, ?, ?)`, tn.channel, newID(), at)
			e.exec(t, `INSERT INTO unknown_accounts (object, external_id, events, first_seen_at, last_seen_at) VALUES ('page', ?, 1, ?, ?)`, newID(), at, at)
			e.exec(t, `INSERT INTO jobs (kind, payload, state, run_at, created_at, updated_at) VALUES ('k', ?, 'dead', ?, ?, ?)`, []byte("{}"), at, at, at)
		}
		e.exec(t, `INSERT INTO jobs (kind, payload, state, run_at, created_at, updated_at) VALUES ('k', ?, 'pending', ?, ?, ?)`, []byte("{}"), old, old, old)
		user := newID()
		e.exec(t, `INSERT INTO users (id, email, email_key, password_hash, age_confirmed_at, password_changed_at, created_at, updated_at)
			VALUES (?, 'a@example.com', ?, 'x', ?, ?, ?, ?)`, user, user+"@example.com", old, old, old, old)
		// Sessions: expired long ago (goes), revoked long ago though valid
		// on paper (goes), expired recently (stays), live (stays).
		for _, s := range []struct {
			expires time.Time
			revoked any
		}{{old, nil}, {now.Add(time.Hour), old}, {recent, nil}, {now.Add(time.Hour), nil}} {
			e.exec(t, `INSERT INTO sessions (id, user_id, created_at, expires_at, last_seen_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)`,
				newID(), user, old, s.expires, old, s.revoked)
		}
		// Invitations: accepted long ago (goes), expired long ago (goes),
		// pending (stays).
		for _, inv := range []struct {
			expires  time.Time
			accepted any
		}{{now.Add(time.Hour), old}, {old, nil}, {now.Add(time.Hour), nil}} {
			id := newID()
			e.exec(t, `INSERT INTO invitations (id, workspace_id, email, email_key, role, token_hash, created_at, expires_at, accepted_at)
				VALUES (?, ?, 'b@example.com', 'b@example.com', 'agent', ?, ?, ?, ?)`, id, tn.ws, id, old, inv.expires, inv.accepted)
		}
		imports := map[string]string{"done-old": "done", "running-old": "running", "done-recent": "done"}
		for name, state := range imports {
			at := old
			if strings.HasSuffix(name, "recent") {
				at = recent
			}
			var fin any = at
			if state == "running" {
				fin = nil
			}
			e.exec(t, `INSERT INTO contact_imports (id, workspace_id, state, options, created_at, updated_at, finished_at) VALUES (?, ?, ?, '{}', ?, ?, ?)`,
				name+"-"+tn.ws, tn.ws, state, at, at, fin)
			e.exec(t, `INSERT INTO contact_import_errors (import_id, workspace_id, row_no, message) VALUES (?, ?, 2, 'bad e-mail')`, name+"-"+tn.ws, tn.ws)
		}
		rep := e.run(t)
		for table, want := range map[string]int{"flow_errors": 1, "channel_logins": 1, "inbound_keys": 1, "unknown_accounts": 1, "jobs": 2, "contact_imports": 2, "contact_import_errors": 2, "sessions": 2, "invitations": 1} {
			if n := e.count(t, `SELECT count(*) FROM `+table); n != want {
				t.Errorf("%s: %d rows left, want %d", table, n, want)
			}
		}
		if n := e.count(t, `SELECT count(*) FROM contact_imports WHERE id = ?`, "running-old-"+tn.ws); n != 1 {
			t.Errorf("a running import was deleted")
		}
		if rep.Deleted[retention.ClassOperational] != 6 || rep.Platform[retention.ClassOperational] != 4 {
			t.Errorf("report %+v", rep)
		}
	})
}

// N-6 for workspaces that no longer exist: the run visits live workspaces
// only, so the platform purge takes the audit entries of deleted and
// purged workspaces at the platform's period (a year), like platform
// entries, and leaves a live workspace's to that workspace's period.
func TestAuditLogOfPurgedWorkspaces(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, retention.Options{})
		now := e.clk.Now()
		tn := e.tenant(t)
		if _, err := e.svc.Set(context.Background(), admin, tn.ws, map[retention.Class]int{retention.ClassAuditLog: 730}); err != nil {
			t.Fatal(err)
		}
		gone := newID() // a workspace deleted and purged: no row left
		insertAudit := func(ws string, at time.Time) string {
			id := newID()
			e.exec(t, `INSERT INTO audit_log (id, workspace_id, action, created_at) VALUES (?, ?, 'test.old', ?)`, id, ws, at)
			return id
		}
		insertAudit(gone, ago(now, 370, 0))
		keptGone := insertAudit(gone, ago(now, 300, 0))
		keptLive := insertAudit(tn.ws, ago(now, 370, 0))

		rep := e.run(t)
		if got := e.strings(t, `SELECT id FROM audit_log WHERE action = 'test.old'`); !slices.Equal(got, sorted(keptGone, keptLive)) {
			t.Errorf("audit entries left %v, want %v", got, sorted(keptGone, keptLive))
		}
		if rep.Platform[retention.ClassAuditLog] != 1 || rep.Deleted[retention.ClassAuditLog] != 0 {
			t.Errorf("report %+v", rep)
		}
	})
}

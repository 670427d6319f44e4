package erasure_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/erasure"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// forms are the shapes a canary could be stored in: clear, hex either
// case, base64 both alphabets (unpadded, so a prefix of a longer
// encoding matches too).
func forms(s string) map[string]string {
	return map[string]string{
		"clear":     s,
		"hex":       hex.EncodeToString([]byte(s)),
		"HEX":       strings.ToUpper(hex.EncodeToString([]byte(s))),
		"base64":    base64.RawStdEncoding.EncodeToString([]byte(s)),
		"base64url": base64.RawURLEncoding.EncodeToString([]byte(s)),
	}
}

// leaks returns where each value appears in the dump, in any form.
func leaks(dump string, values ...string) []string {
	var out []string
	for _, v := range values {
		for form, n := range forms(v) {
			if i := strings.Index(dump, n); i >= 0 {
				line := dump[strings.LastIndex(dump[:i], "\n")+1:]
				if j := strings.IndexByte(line, '\n'); j > 0 {
					line = line[:j]
				}
				if len(line) > 120 {
					line = line[:120]
				}
				out = append(out, v+" ("+form+") in: "+line)
			}
		}
	}
	return out
}

// Promise P-33, test plan O-2 and O-4: erasing a contact deletes its rows
// in every table, the jobs naming it, its conversations or messages, and
// its events in the raw webhook deliveries still stored (another
// person's event in the same delivery stays); a dump of every table and
// column on both databases holds none of its canaries nor its IDs in any
// form; what was sealed for it no longer opens; the other contact of the
// workspace keeps everything.
func TestEraseContactLeavesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newEnv(t, d)
		s := e.space(t)
		gone, kept := e.plant(t, s, "gone"), e.plant(t, s, "kept")
		alone := e.delivery(t, "pending", gone.psid)
		mixed := e.delivery(t, "pending", gone.psid, kept.psid)
		quarantined := e.delivery(t, "quarantined", gone.psid2)
		others := e.delivery(t, "pending", kept.psid)
		keptRows := rowsNaming(t, d, kept.id)
		// The indexer's cursors stopped on the erased contact and on the
		// other contact's message.
		exec(t, d.W, `INSERT INTO search_cursors (feed, at, ref) VALUES ('contacts', ?, ?), ('messages', ?, ?)`, t0, gone.id, t0, kept.msg)

		// The dump sees the canaries stored in clear, so finding none
		// below means something.
		before := dbtest.DumpText(t, d)
		for _, c := range []string{gone.psid, gone.psid2, gone.id, gone.msg} {
			if !strings.Contains(before, c) {
				t.Fatalf("control: %s not in the dump before erasure", c)
			}
		}

		if err := e.s.EraseContact(ctx, audit.Actor{UserID: s.user}, s.ws, gone.id); err != nil {
			t.Fatal(err)
		}

		if left := rowsNaming(t, d, gone.id); len(left) != 0 {
			t.Errorf("rows of the erased contact left: %v", left)
		}
		if diff := cmp.Diff(keptRows, rowsNaming(t, d, kept.id)); diff != "" {
			t.Errorf("the other contact's rows changed (-before +after):\n%s", diff)
		}
		for _, q := range []string{
			`SELECT count(*) FROM conversations WHERE id = ?`, `SELECT count(*) FROM messages WHERE conversation_id = ?`,
			`SELECT count(*) FROM conversation_mentions WHERE conversation_id = ?`, `SELECT count(*) FROM search_docs WHERE conversation_id = ?`,
			`SELECT count(*) FROM jobs WHERE ordering_key = ?`,
		} {
			if n := count(t, d, q, gone.conv); n != 0 {
				t.Errorf("%s: %d", q, n)
			}
			if n := count(t, d, q, kept.conv); n == 0 {
				t.Errorf("%s: the other contact's rows are gone too", q)
			}
		}
		if n := count(t, d, `SELECT count(*) FROM search_cursors WHERE (feed = 'contacts' AND ref = '') OR (feed = 'messages' AND ref = ?)`, kept.msg); n != 2 {
			t.Errorf("search cursors: %d as expected, want both (the erased contact's cleared, the other kept)", n)
		}
		if n := count(t, d, `SELECT count(*) FROM search_grams`); n != 2 {
			t.Errorf("search postings left: %d, want the other contact's 2", n)
		}

		dump := dbtest.DumpText(t, d)
		if l := leaks(dump, append(gone.canaries, gone.id, gone.conv, gone.msg)...); len(l) > 0 {
			t.Errorf("the erased contact is still in the database:\n%s", strings.Join(l, "\n"))
		}
		if !strings.Contains(dump, kept.psid) {
			t.Error("the other contact's PSID is gone from the dump")
		}

		// O-4: a copy of its sealed values taken before no longer opens.
		for _, v := range gone.sealed {
			if _, err := e.kr.OpenContact(ctx, v.aad, gone.id, v.env); !errors.Is(err, keyring.ErrKeyDestroyed) {
				t.Errorf("%s.%s: opening a pre-erasure copy gives %v, want ErrKeyDestroyed", v.aad.Table, v.aad.Column, err)
			}
		}
		for _, v := range kept.sealed {
			if pt, err := e.kr.OpenContact(ctx, v.aad, kept.id, v.env); err != nil || string(pt) != v.pt {
				t.Errorf("the other contact's %s.%s: %q, %v", v.aad.Table, v.aad.Column, pt, err)
			}
		}

		// Raw webhook deliveries: the erased contact's events go, the
		// other's stay.
		if b := e.deliveryBody(t, alone); b != "" {
			t.Errorf("a delivery with only the erased contact's event stayed: %s", b)
		}
		if b := e.deliveryBody(t, quarantined); b != "" {
			t.Errorf("a quarantined delivery of the erased contact stayed: %s", b)
		}
		if b := e.deliveryBody(t, e.replacement(t, mixed, others)); strings.Contains(b, gone.psid) || !strings.Contains(b, kept.psid) {
			t.Errorf("the mixed delivery reads %s", b)
		}
		if b := e.deliveryBody(t, others); !strings.Contains(b, kept.psid) {
			t.Errorf("the other contact's delivery reads %q", b)
		}

		// A tombstone and an audit entry, both pseudonymous.
		ts, err := e.s.Tombstones(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		want := []erasure.Tombstone{{Kind: erasure.KindContact, WorkspaceID: s.ws, Subject: e.s.Subject(gone.id), At: t0.Add(time.Hour)}}
		if diff := cmp.Diff(want, ts); diff != "" {
			t.Errorf("tombstones (-want +got):\n%s", diff)
		}
		entries, err := audit.List(ctx, d, audit.Filter{WorkspaceID: s.ws, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Action != erasure.ActionEraseContact || entries[0].TargetID != e.s.Subject(gone.id) ||
			entries[0].ActorUserID == nil || *entries[0].ActorUserID != s.user {
			t.Errorf("audit entries: %+v", entries)
		}
	})
}

// P-33: a contact that is not the workspace's is a not-found and nothing
// changes; erasing twice is a not-found the second time.
func TestEraseContactRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newEnv(t, d)
		s, other := e.space(t), e.space(t)
		p := e.plant(t, s, "p")
		rows := rowsNaming(t, d, p.id)
		for name, c := range map[string]struct{ ws, id string }{
			"another workspace": {other.ws, p.id},
			"unknown contact":   {s.ws, newID()},
			"empty ID":          {s.ws, ""},
			"empty workspace":   {"", p.id},
		} {
			if err := e.s.EraseContact(ctx, audit.Actor{}, c.ws, c.id); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("%s: %v, want db.ErrNotFound", name, err)
			}
		}
		if diff := cmp.Diff(rows, rowsNaming(t, d, p.id)); diff != "" {
			t.Errorf("a refused erasure changed rows:\n%s", diff)
		}
		if n := count(t, d, `SELECT count(*) FROM tombstones`); n != 0 {
			t.Errorf("%d tombstones after refusals", n)
		}
		if err := e.s.EraseContact(ctx, audit.Actor{}, s.ws, p.id); err != nil {
			t.Fatal(err)
		}
		if err := e.s.EraseContact(ctx, audit.Actor{}, s.ws, p.id); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("second erasure: %v, want db.ErrNotFound", err)
		}
	})
}

// Hooks run inside the erasure's transaction, before the rows go (they
// still see them); a failing hook aborts the whole erasure; After
// functions run once it has committed.
func TestEraseHooks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newEnv(t, d)
		s := e.space(t)
		p := e.plant(t, s, "p")
		boom := errors.New("boom")
		fail := true
		var sawMessages int
		e.s.OnErase("probe", func(ctx context.Context, tx bun.Tx, ws, contactID string) error {
			if err := tx.NewRaw(`SELECT count(*) FROM messages WHERE workspace_id = ? AND contact_id = ?`, ws, contactID).Scan(ctx, &sawMessages); err != nil {
				return err
			}
			if fail {
				return boom
			}
			return nil
		})
		var after []string
		e.s.AfterErase("record", func(ctx context.Context, ws, contactID string) { after = append(after, ws+"/"+contactID) })
		e.s.AfterErase("panics", func(context.Context, string, string) { panic("after-erase bug") })
		e.s.AfterErase("record again", func(ctx context.Context, ws, contactID string) { after = append(after, "again") })

		rows := rowsNaming(t, d, p.id)
		if err := e.s.EraseContact(ctx, audit.Actor{}, s.ws, p.id); !errors.Is(err, boom) {
			t.Fatalf("failing hook: %v, want boom", err)
		}
		if diff := cmp.Diff(rows, rowsNaming(t, d, p.id)); diff != "" {
			t.Errorf("an aborted erasure deleted rows:\n%s", diff)
		}
		if _, err := e.kr.OpenContact(ctx, p.sealed[0].aad, p.id, p.sealed[0].env); err != nil {
			t.Errorf("an aborted erasure destroyed the key: %v", err)
		}
		if len(after) != 0 {
			t.Errorf("after functions ran for an aborted erasure: %v", after)
		}

		fail = false
		if err := e.s.EraseContact(ctx, audit.Actor{}, s.ws, p.id); err != nil {
			t.Fatal(err)
		}
		if sawMessages != 1 {
			t.Errorf("the hook saw %d messages, want the contact's 1", sawMessages)
		}
		if diff := cmp.Diff([]string{s.ws + "/" + p.id, "again"}, after); diff != "" {
			t.Errorf("after functions (-want +got):\n%s", diff)
		}
	})
}

// P-33: deleting a conversation deletes it with its messages, events,
// mentions, flow session, search documents and jobs; the contact and its
// other rows stay; another workspace's conversation is a not-found.
func TestDeleteConversation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newEnv(t, d)
		s, other := e.space(t), e.space(t)
		p, q := e.plant(t, s, "p"), e.plant(t, s, "q")
		qRows := rowsNaming(t, d, q.id)

		if err := e.s.DeleteConversation(ctx, audit.Actor{}, other.ws, p.conv); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("another workspace's conversation: %v", err)
		}
		if err := e.s.DeleteConversation(ctx, audit.Actor{}, s.ws, newID()); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("unknown conversation: %v", err)
		}
		if err := e.s.DeleteConversation(ctx, audit.Actor{UserID: s.user}, s.ws, p.conv); err != nil {
			t.Fatal(err)
		}
		// Its tombstone, so a replacement backup deletes it again.
		ts, err := e.s.Tombstones(ctx, time.Time{})
		if err != nil || len(ts) != 1 || ts[0].Kind != erasure.KindConversation || ts[0].WorkspaceID != s.ws || ts[0].Subject != e.s.Subject(p.conv) {
			t.Errorf("tombstones after deleting a conversation: %+v, %v", ts, err)
		}
		left := rowsNaming(t, d, p.id)
		want := map[string]int{"contacts": 0, "contact_identities": 1, "contact_activity": 1, "pipeline_cards": 1, "contact_tags": 1,
			"contact_field_values": 1, "contact_phones": 1, "call_log_seen": 1, "search_docs": 1, "search_pending": 1, "contact_keys": 1,
			"inbound_keys": 1} // the contact's redelivery keys stay with the contact
		delete(want, "contacts")
		for tb := range left {
			if _, ok := want[tb]; !ok {
				t.Errorf("%s still has %d rows of the deleted conversation's contact", tb, left[tb])
			}
		}
		if diff := cmp.Diff(want, left); diff != "" {
			t.Errorf("the contact's other rows (-want +got):\n%s", diff)
		}
		if n := count(t, d, `SELECT count(*) FROM contacts WHERE id = ?`, p.id); n != 1 {
			t.Error("the contact went with its conversation")
		}
		if n := count(t, d, `SELECT count(*) FROM jobs WHERE ordering_key = ?`, p.conv); n != 0 {
			t.Errorf("%d jobs of the deleted conversation left", n)
		}
		if n := count(t, d, `SELECT count(*) FROM jobs WHERE unique_key = ?`, "inbox.profile:"+p.id); n != 1 {
			t.Errorf("the contact's own job: %d, want 1 (it is not the conversation's)", n)
		}
		if diff := cmp.Diff(qRows, rowsNaming(t, d, q.id)); diff != "" {
			t.Errorf("the other contact's rows changed:\n%s", diff)
		}
		entries, err := audit.List(ctx, d, audit.Filter{WorkspaceID: s.ws, Limit: 10})
		if err != nil || len(entries) != 1 || entries[0].Action != erasure.ActionDeleteConversation || entries[0].TargetID != p.conv {
			t.Errorf("audit: %+v, %v", entries, err)
		}
	})
}

// M-6, O-4: Replay erases, in a database replacement from before the
// erasures, every contact and workspace the tombstones name (keys
// destroyed, rows gone), writes the tombstones back, leaves the rest
// alone, and does nothing the second time.
func TestReplay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newEnv(t, d)
		s, doomed := e.space(t), e.space(t)
		erased, kept := e.plant(t, s, "erased"), e.plant(t, s, "kept")
		talk := e.plant(t, s, "talk") // its conversation was deleted after the backup
		inDoomed := e.plant(t, doomed, "doomed")
		// The tombstones as another copy of the database wrote them: a
		// Service on the same master key computes the same subjects.
		ts := []erasure.Tombstone{
			{Kind: erasure.KindContact, WorkspaceID: s.ws, Subject: e.s.Subject(erased.id), At: t0},
			{Kind: erasure.KindContact, WorkspaceID: s.ws, Subject: e.s.Subject(newID()), At: t0}, // erased before the backup
			{Kind: erasure.KindWorkspace, Subject: e.s.Subject(doomed.ws), At: t0},
			{Kind: erasure.KindConversation, WorkspaceID: s.ws, Subject: e.s.Subject(talk.conv), At: t0},
		}
		n, err := e.s.Replay(ctx, ts)
		if err != nil || n != 3 {
			t.Fatalf("replay: %d, %v; want 3 erased", n, err)
		}
		for _, q := range []string{`SELECT count(*) FROM conversations WHERE id = ?`, `SELECT count(*) FROM messages WHERE conversation_id = ?`} {
			if c := count(t, d, q, talk.conv); c != 0 {
				t.Errorf("%s: %d after the conversation's replay", q, c)
			}
		}
		if c := count(t, d, `SELECT count(*) FROM contacts WHERE id = ?`, talk.id); c != 1 {
			t.Error("replaying a conversation's tombstone took its contact")
		}
		if left := rowsNaming(t, d, erased.id); len(left) != 0 {
			t.Errorf("rows of the replayed contact left: %v", left)
		}
		if left := rowsNaming(t, d, inDoomed.id); len(left) != 0 {
			t.Errorf("rows of the deleted workspace's contact left: %v", left)
		}
		for _, q := range []string{`SELECT count(*) FROM workspaces WHERE id = ?`, `SELECT count(*) FROM workspace_keys WHERE workspace_id = ?`,
			`SELECT count(*) FROM contact_keys WHERE workspace_id = ?`, `SELECT count(*) FROM channels WHERE workspace_id = ?`} {
			if c := count(t, d, q, doomed.ws); c != 0 {
				t.Errorf("%s: %d after the workspace's replay", q, c)
			}
		}
		if n := count(t, d, `SELECT count(*) FROM jobs WHERE ordering_key = ?`, inDoomed.conv); n != 0 {
			t.Errorf("%d jobs of the deleted workspace left", n)
		}
		for _, v := range erased.sealed {
			if _, err := e.kr.OpenContact(ctx, v.aad, erased.id, v.env); !errors.Is(err, keyring.ErrKeyDestroyed) {
				t.Errorf("replayed contact's %s opens: %v", v.aad.Table, err)
			}
		}
		for _, v := range inDoomed.sealed {
			if _, err := e.kr.OpenContact(ctx, v.aad, inDoomed.id, v.env); err == nil {
				t.Errorf("deleted workspace's %s still opens", v.aad.Table)
			}
		}
		for _, v := range kept.sealed {
			if _, err := e.kr.OpenContact(ctx, v.aad, kept.id, v.env); err != nil {
				t.Errorf("the kept contact's %s: %v", v.aad.Table, err)
			}
		}
		if len(rowsNaming(t, d, kept.id)) < 10 {
			t.Error("the kept contact lost rows")
		}
		got, err := e.s.Tombstones(ctx, time.Time{})
		if err != nil || len(got) != 4 {
			t.Errorf("tombstones after replay: %+v, %v", got, err)
		}
		if n, err := e.s.Replay(ctx, ts); err != nil || n != 0 {
			t.Errorf("second replay: %d, %v; want 0", n, err)
		}
		if n, err := e.s.Replay(ctx, []erasure.Tombstone{{Kind: "user", Subject: "x"}}); err == nil {
			t.Errorf("unknown kind replayed: %d", n)
		}
	})
}

// Subjects are keyed: the same ID gives the same subject under one master
// key, another under another, and never contains the ID.
func TestSubject(t *testing.T) {
	d := dbtest.SQLite(t)
	a, b := newEnv(t, d), newEnv(t, d)
	id := newID()
	if a.s.Subject(id) != a.s.Subject(id) {
		t.Error("subject is not deterministic")
	}
	if a.s.Subject(id) == b.s.Subject(id) {
		t.Error("two master keys give the same subject")
	}
	if sub := a.s.Subject(id); len(sub) != 64 || strings.Contains(sub, id) {
		t.Errorf("subject %q", sub)
	}
	if err := a.s.RecordWorkspace(context.Background(), d.W, ""); err == nil {
		t.Error("RecordWorkspace accepted an empty ID")
	}
	if err := a.s.RecordWorkspace(context.Background(), d.W, id); err != nil {
		t.Fatal(err)
	}
	ts, err := a.s.Tombstones(context.Background(), time.Time{})
	if err != nil || len(ts) != 1 || ts[0].Kind != erasure.KindWorkspace || ts[0].Subject != a.s.Subject(id) || ts[0].WorkspaceID != "" {
		t.Errorf("workspace tombstone: %+v, %v", ts, err)
	}
}

// RecordContact writes, in the caller's transaction, the tombstone
// EraseContact writes (what a merge needs for the contact it deletes), so
// that Replay erases the contact from a copy that still holds it; a second
// one is a no-op, a rolled-back one is not written, and empty IDs are
// refused.
func TestRecordContact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newEnv(t, d)
		s := e.space(t)
		merged, other := e.plant(t, s, "merged"), e.plant(t, s, "other")
		errRollback := errors.New("rollback")
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := e.s.RecordContact(ctx, tx, s.ws, other.id); err != nil {
				return err
			}
			return errRollback
		}); !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		for range 2 {
			if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
				return e.s.RecordContact(ctx, tx, s.ws, merged.id)
			}); err != nil {
				t.Fatal(err)
			}
		}
		ts, err := e.s.Tombstones(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		want := []erasure.Tombstone{{Kind: erasure.KindContact, WorkspaceID: s.ws, Subject: e.s.Subject(merged.id), At: t0.Add(time.Hour)}}
		if diff := cmp.Diff(want, ts); diff != "" {
			t.Fatalf("tombstones (-want +got):\n%s", diff)
		}
		if n, err := e.s.Replay(ctx, ts); err != nil || n != 1 {
			t.Fatalf("replay: %d, %v; want 1 erased", n, err)
		}
		if left := rowsNaming(t, d, merged.id); len(left) != 0 {
			t.Errorf("rows of the recorded contact left after the replay: %v", left)
		}
		if len(rowsNaming(t, d, other.id)) < 10 {
			t.Error("the other contact lost rows")
		}
		for _, ids := range [][2]string{{"", merged.id}, {s.ws, ""}} {
			if err := e.s.RecordContact(ctx, d.W, ids[0], ids[1]); err == nil {
				t.Errorf("RecordContact(%q, %q) accepted", ids[0], ids[1])
			}
		}
	})
}

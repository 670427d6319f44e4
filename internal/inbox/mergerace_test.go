package inbox

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

// A message from the gone contact's PSID arriving while a merge is under
// way is stored as the kept contact's, sealed under the kept contact's
// key: on PostgreSQL the ingest's contact lookup (FOR SHARE) waits for the
// merge, which has moved the conversations and still has to delete the
// gone contact and destroy its key, and then resolves the PSID through the
// merged identity; on SQLite the single writer runs them one after the
// other. Afterwards every message opens and none names a missing contact.
func TestIngestRacingMerge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		other := fixture.Messenger(t, h.channels, h.ws, "page2-"+h.ws, "page-token-2")
		onOther := func(mid, text string) channel.Inbound {
			ev := h.text("psid-gone", mid, text)
			ev.AccountID = other.ExternalID
			return ev
		}
		h.ingest(h.text("psid-keep", "m-1", "hello from page 1"))
		if _, err := h.ingestOn(other, onOther("m-2", "hello from page 2")); err != nil {
			t.Fatal(err)
		}
		keepID := h.conversationOf("psid-keep").ContactID
		gone, err := h.contacts.Lookup(ctx, d.R, other, "psid-gone")
		if err != nil {
			t.Fatal(err)
		}

		// The merge moves the conversations, then pauses before it deletes
		// the gone contact and destroys its key.
		moved, release := make(chan struct{}), make(chan struct{})
		merged := make(chan error, 1)
		go func() {
			_, err := h.contacts.Merge(ctx, auditActor, h.ws, keepID, gone.ID, func(ctx context.Context, tx bun.Tx, m contact.Merging) error {
				if err := h.svc.MoveContact(ctx, tx, m.WorkspaceID, m.GoneID, m.KeepID); err != nil {
					return err
				}
				close(moved)
				<-release
				return nil
			})
			merged <- err
		}()
		select {
		case <-moved:
		case err := <-merged:
			t.Fatalf("merge ended before its mover ran: %v", err)
		}

		ingested := make(chan error, 1)
		if d.Dialect == db.Postgres {
			tx, err := d.W.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			var pid int
			if err := tx.NewRaw(`SELECT pg_backend_pid()`).Scan(ctx, &pid); err != nil {
				t.Fatal(err)
			}
			go func() {
				_, err := h.svc.Ingest(ctx, tx, other, []channel.Inbound{onOther("m-3", "during the merge")})
				if err == nil {
					err = tx.Commit()
				}
				ingested <- err
			}()
			// Let the ingest run until it waits on the merge's locks (or
			// ends), then let the merge finish.
			waitBlockedOrDone(t, d, pid, ingested)
		} else {
			// One writer: the ingest's transaction starts after the merge's.
			go func() {
				_, err := h.ingestOn(other, onOther("m-3", "during the merge"))
				ingested <- err
			}()
		}
		close(release)
		if err := <-merged; err != nil {
			t.Fatalf("merge: %v", err)
		}
		if err := <-ingested; err != nil {
			t.Fatalf("ingest during the merge: %v", err)
		}

		if n := h.count(`SELECT count(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = m.contact_id)`); n != 0 {
			t.Errorf("%d message(s) name a contact that no longer exists", n)
		}
		var convs []string
		if err := d.R.NewRaw(`SELECT id FROM conversations WHERE workspace_id = ? ORDER BY id`, h.ws).Scan(ctx, &convs); err != nil {
			t.Fatal(err)
		}
		texts := map[string]string{}
		for _, id := range convs {
			ms, err := h.svc.Messages(ctx, h.ws, id, MaxLimit, "")
			if err != nil {
				t.Fatalf("messages of %s do not open: %v", id, err)
			}
			for _, m := range ms {
				if m.Direction == In {
					texts[m.Content.Text] = m.ContactID
				}
			}
		}
		for _, text := range []string{"hello from page 1", "hello from page 2", "during the merge"} {
			if texts[text] != keepID {
				t.Errorf("message %q: contact %q, want the kept contact %s", text, texts[text], keepID)
			}
		}
	})
}

// waitBlockedOrDone returns once backend pid waits on a lock or done has
// a value (put back for the caller); it fails after 30 s of neither.
func waitBlockedOrDone(t *testing.T, d *db.DB, pid int, done chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			done <- err
			return
		default:
		}
		var wait string
		if err := d.R.NewRaw(`SELECT COALESCE(wait_event_type, '') FROM pg_stat_activity WHERE pid = ?`, pid).Scan(context.Background(), &wait); err != nil {
			t.Fatal(err)
		}
		if wait == "Lock" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the ingest neither ended nor waited on a lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

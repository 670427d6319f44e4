package dataset_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/dataset"
)

// small is a set big enough to span several sealing batches and commits.
var small = dataset.Size{Contacts: 5000, Conversations: 2100}

// The generated rows are what Parley itself reads back: contact names open
// through contact.Store, conversations list through inbox.Service with
// names and last messages opened, every conversation once across keyset
// pages, and the database keeps every index of its migrations and no
// dangling reference.
func TestGeneratedSetReadsBackThroughParley(t *testing.T) {
	ctx := context.Background()
	t.Setenv("TMPDIR", t.TempDir())
	set, err := dataset.Ensure(ctx, small, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if !set.Generated || set.APIKey == "" || len(set.ChannelIDs) == 0 || len(set.AgentIDs) == 0 {
		t.Fatalf("set = %+v", set)
	}
	d, kr, err := set.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	counts := map[string]int{}
	for _, table := range []string{"contacts", "contact_keys", "conversations"} {
		var n int
		if err := d.R.NewRaw(`SELECT count(*) FROM `+table).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		counts[table] = n
	}
	want := map[string]int{"contacts": small.Contacts, "contact_keys": small.Contacts, "conversations": small.Conversations}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("row counts (-want +got):\n%s", diff)
	}

	contacts := contact.NewStore(d, kr, time.Now)
	var ids []string
	if err := d.R.NewRaw(`SELECT id FROM contacts ORDER BY id LIMIT 50`).Scan(ctx, &ids); err != nil {
		t.Fatal(err)
	}
	got, err := contacts.GetMany(ctx, set.WorkspaceID, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if c := got[id]; c.FirstName == "" || c.LastName == "" {
			t.Errorf("contact %s opened as %+v", id, c)
		}
	}

	svc := inbox.New(d, kr, inbox.Options{Contacts: contacts})
	seen := map[string]bool{}
	opt := inbox.ListOptions{Limit: inbox.MaxLimit}
	for {
		page, err := svc.List(ctx, set.WorkspaceID, opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Conversations {
			if seen[s.ID] {
				t.Fatalf("conversation %s listed twice", s.ID)
			}
			seen[s.ID] = true
			if s.ContactName == "" || s.LastMessage == nil || s.LastMessage.Content.Text == "" {
				t.Fatalf("summary %s: name %q, last message %+v", s.ID, s.ContactName, s.LastMessage)
			}
		}
		if page.NextCursor == "" {
			break
		}
		opt.Cursor = page.NextCursor
	}
	if len(seen) != small.Conversations {
		t.Errorf("listed %d conversations, want %d", len(seen), small.Conversations)
	}
	open, err := svc.List(ctx, set.WorkspaceID, inbox.ListOptions{Status: []inbox.Status{inbox.StatusOpen}, Assignee: inbox.Unassigned})
	if err != nil {
		t.Fatal(err)
	}
	if len(open.Conversations) == 0 {
		t.Error("no open unassigned conversation")
	}
	for _, s := range open.Conversations {
		if s.Status != inbox.StatusOpen || s.AssigneeID != "" {
			t.Errorf("filter open+unassigned listed %+v", s.Conversation)
		}
	}

	var dangling []struct {
		Table  string `bun:"table"`
		Parent string `bun:"parent"`
	}
	if err := d.R.NewRaw(`SELECT "table", parent FROM pragma_foreign_key_check`).Scan(ctx, &dangling); err != nil {
		t.Fatal(err)
	}
	if len(dangling) > 0 {
		t.Errorf("%d rows break a foreign key, first %+v", len(dangling), dangling[0])
	}
	if diff := cmp.Diff(indexes(t, freshDB(t)), indexes(t, d)); diff != "" {
		t.Errorf("indexes differ from a freshly migrated database (-fresh +set):\n%s", diff)
	}
}

// A complete set is reused; one without its mark is generated again.
func TestEnsureReusesCompleteSet(t *testing.T) {
	ctx := context.Background()
	t.Setenv("TMPDIR", t.TempDir())
	size := dataset.Size{Contacts: 300, Conversations: 100}
	first, err := dataset.Ensure(ctx, size, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := dataset.Ensure(ctx, size, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Generated || again.WorkspaceID != first.WorkspaceID || again.APIKey != first.APIKey {
		t.Errorf("second Ensure = %+v, want the cached set of %+v", again, first)
	}
	if err := os.Remove(filepath.Join(first.Dir, "complete")); err != nil {
		t.Fatal(err)
	}
	third, err := dataset.Ensure(ctx, size, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !third.Generated || third.WorkspaceID == first.WorkspaceID {
		t.Errorf("Ensure after the mark was removed reused the set: %+v", third)
	}
	if _, err := dataset.Ensure(ctx, dataset.Size{Contacts: 1, Conversations: 2}, nil); err == nil {
		t.Error("more conversations than contacts accepted")
	}

	// A copy opens on its own with the set's master key, as parley would.
	dir := t.TempDir()
	if err := third.CopyTo(dir); err != nil {
		t.Fatal(err)
	}
	m, created, err := keyring.LoadMaster(nil, dir)
	if err != nil || created || m.ID() != dataset.Master().ID() {
		t.Fatalf("master key of the copy: created %v, err %v", created, err)
	}
}

func freshDB(t *testing.T) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), "", t.TempDir(), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

func indexes(t *testing.T, d *db.DB) map[string]string {
	t.Helper()
	var rows []struct {
		Name string `bun:"name"`
		SQL  string `bun:"sql"`
	}
	if err := d.R.NewRaw(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL`).Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.Name] = r.SQL
	}
	return out
}

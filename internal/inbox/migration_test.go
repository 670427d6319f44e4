package inbox

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Migration 00017 turns the old "closed" into "resolved" and keeps open
// conversations open, without touching their messages; its Down turns them
// back. Run here as SQL on conversations that hold messages: the column is
// replaced in place, never the table (whose DROP would cascade to
// messages).
func TestMigration00017KeepsConversations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		raw, err := os.ReadFile("../db/migrations/" + string(d.Dialect) + "/00017_inbox_states.sql")
		if err != nil {
			t.Fatal(err)
		}
		up, down, ok := strings.Cut(string(raw), "-- +goose Down")
		if !ok {
			t.Fatal("no Down section")
		}
		run := func(script string) {
			t.Helper()
			for _, stmt := range strings.Split(script, ";\n") {
				var lines []string
				for _, l := range strings.Split(stmt, "\n") {
					if !strings.HasPrefix(strings.TrimSpace(l), "--") {
						lines = append(lines, l)
					}
				}
				if q := strings.TrimSpace(strings.Join(lines, "\n")); q != "" {
					if _, err := d.W.ExecContext(ctx, q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
			}
		}
		h := newHarness(t, d)
		a, b := h.newConv("psid-a"), h.newConv("psid-b")
		msgs := h.count(`SELECT count(*) FROM messages WHERE workspace_id = ?`, h.ws)
		if err := h.svc.Resolve(ctx, auditActor, h.ws, b.ID); err != nil {
			t.Fatal(err)
		}
		// Later migrations may index conversations.status: their Down runs
		// before this one's, so set their indexes aside meanwhile.
		q := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'conversations' AND sql LIKE '%status%'
			AND name <> 'conversations_status'`
		if d.Dialect == db.Postgres {
			q = `SELECT indexname AS name, indexdef AS sql FROM pg_indexes WHERE schemaname = current_schema()
				AND tablename = 'conversations' AND indexdef LIKE '%status%' AND indexname <> 'conversations_status'`
		}
		var later []struct {
			Name string `bun:"name"`
			SQL  string `bun:"sql"`
		}
		if err := d.R.NewRaw(q).Scan(ctx, &later); err != nil {
			t.Fatal(err)
		}
		for _, ix := range later {
			run(`DROP INDEX ` + ix.Name)
		}
		run(down)
		var st string
		if err := d.R.NewRaw(`SELECT status FROM conversations WHERE id = ?`, b.ID).Scan(ctx, &st); err != nil || st != "closed" {
			t.Fatalf("after Down: %q, %v", st, err)
		}
		run(up)
		for _, ix := range later {
			run(ix.SQL)
		}
		for id, want := range map[string]Status{a.ID: StatusOpen, b.ID: StatusResolved} {
			c, err := h.svc.Conversation(ctx, h.ws, id)
			if err != nil || c.Status != want {
				t.Errorf("after Up: %+v, %v; want %s", c, err, want)
			}
		}
		if n := h.count(`SELECT count(*) FROM messages WHERE workspace_id = ?`, h.ws); n != msgs || n == 0 {
			t.Errorf("messages %d, had %d", n, msgs)
		}
	})
}

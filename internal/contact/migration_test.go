package contact_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pressly/goose/v3"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

// The version before migration 00024 (contacts without channel, merged
// identities).
const beforeIdentities = 23

// identities is migration 00024 itself: the test stops there, so foreign
// keys that later migrations add to contacts do not count as changes.
const identities = 24

// migrator is goose on the migration files of d's dialect, read from the
// source tree (package db embeds the same files).
func migrator(t *testing.T, d *db.DB) *goose.Provider {
	t.Helper()
	dialect := goose.DialectSQLite3
	if d.Dialect == db.Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, d.W.DB, os.DirFS("../db/migrations/"+string(d.Dialect)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// unmigrated opens an empty database of the dialect.
func unmigrated(t *testing.T, dialect db.Dialect) *db.DB {
	t.Helper()
	if dialect == db.Postgres {
		d, _ := dbtest.PostgresDSN(t)
		return d
	}
	d, err := db.Open(context.Background(), "", t.TempDir(), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// dependents are the tables whose rows hang on contacts by ON DELETE
// CASCADE: the ones a careless rebuild of contacts would empty.
var dependents = []string{"contacts", "conversations", "messages", "contact_field_values", "contact_tags", "contact_activity"}

// snapshot dumps every row of the tables (the columns they had before
// 00024), in primary key order, as text.
func snapshot(t *testing.T, d *db.DB, cols map[string][]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range dependents {
		rows, err := d.W.DB.Query(`SELECT ` + strings.Join(cols[table], ", ") + ` FROM ` + table + ` ORDER BY 1, 2`)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		vals := make([]any, len(cols[table]))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		n := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if tm, ok := v.(time.Time); ok {
					v = tm.UTC()
				}
				fmt.Fprintf(&b, "%s=%v ", cols[table][i], v)
			}
			b.WriteString("\n")
			n++
		}
		rows.Close()
		if n == 0 {
			t.Fatalf("no rows in %s to check", table)
		}
		out[table] = b.String()
	}
	return out
}

// columnsOf lists each dependent table's columns.
func columnsOf(t *testing.T, d *db.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range dependents {
		rows, err := d.W.DB.Query(`SELECT * FROM ` + table + ` WHERE 1 = 0`)
		if err != nil {
			t.Fatal(err)
		}
		out[table], err = rows.Columns()
		rows.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// schemaOf lists the indexes and triggers on contacts (and on SQLite the
// foreign keys pointing at it), which the rebuild must all keep.
func schemaOf(t *testing.T, d *db.DB) []string {
	t.Helper()
	q := `SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master
		WHERE tbl_name = 'contacts' AND type IN ('index', 'trigger') ORDER BY name`
	if d.Dialect == db.Postgres {
		q = `SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE tablename = 'contacts' AND schemaname = current_schema()
			UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE confrelid = 'contacts'::regclass
			ORDER BY 1`
	}
	var out []string
	if err := d.W.NewRaw(q).Scan(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	if d.Dialect == db.SQLite {
		var tables []string
		if err := d.W.NewRaw(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).Scan(context.Background(), &tables); err != nil {
			t.Fatal(err)
		}
		for _, table := range tables {
			var fks []struct {
				Table    string `bun:"table"`
				From     string `bun:"from"`
				To       string `bun:"to"`
				OnDelete string `bun:"on_delete"`
			}
			if err := d.W.NewRaw(`SELECT "table", "from", "to", on_delete FROM pragma_foreign_key_list(?) WHERE "table" = 'contacts'`, table).
				Scan(context.Background(), &fks); err != nil {
				t.Fatal(err)
			}
			for _, fk := range fks {
				out = append(out, fmt.Sprintf("fk %s.%s -> contacts.%s %s", table, fk.From, fk.To, fk.OnDelete))
			}
		}
	}
	return out
}

// Migration 00024 makes contacts.channel_id nullable; on SQLite by
// rebuilding contacts. Every existing contact, and every row hanging on one
// by ON DELETE CASCADE (conversations, messages, values, tags, activity),
// survives it unchanged; every index and foreign key stays; foreign keys are
// on again afterwards and still cascade into the new table.
func TestMigrationKeepsContactsAndDependents(t *testing.T) {
	for _, dialect := range dbtest.Dialects(t) {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			d := unmigrated(t, dialect)
			p := migrator(t, d)
			if _, err := p.UpTo(ctx, beforeIdentities); err != nil {
				t.Fatal(err)
			}
			kr, _ := fixture.Keyring(t, d, func() time.Time { return fixture.Epoch })
			ws := fixture.Workspace(t, d, kr)
			ch := fixture.Messenger(t, channel.NewStore(d, kr, func() time.Time { return fixture.Epoch }), ws, "page-1", "token")
			now := fixture.Epoch
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{`INSERT INTO contacts (id, workspace_id, channel_id, external_id, first_name, locale, profile_state, stage, stage_by,
					subscribed, subscribed_at, subscription_by, created_at, updated_at)
					VALUES ('ct-1', ?, ?, 'psid-1', ?, 'km_KH', 'fetched', 'Lead', 'user:u1', ?, ?, 'user:u1', ?, ?)`,
					[]any{ws, ch.ID, []byte{1, 2, 3}, true, now, now, now}},
				{`INSERT INTO contacts (id, workspace_id, channel_id, external_id, locale, profile_state, created_at, updated_at)
					VALUES ('ct-2', ?, ?, 'psid-2', '', 'pending', ?, ?)`, []any{ws, ch.ID, now, now}},
				{`INSERT INTO conversations (id, workspace_id, channel_id, contact_id, last_activity_at, created_at, updated_at)
					VALUES ('cv-1', ?, ?, 'ct-1', ?, ?, ?)`, []any{ws, ch.ID, now, now, now}},
				{`INSERT INTO messages (id, workspace_id, channel_id, conversation_id, contact_id, direction, kind, body, sender_type, status, created_at, updated_at)
					VALUES ('m-1', ?, ?, 'cv-1', 'ct-1', 'in', 'text', ?, 'contact', 'received', ?, ?)`, []any{ws, ch.ID, []byte{9, 9}, now, now}},
				{`INSERT INTO contact_fields (id, workspace_id, key, label, type, created_at, updated_at)
					VALUES ('f-1', ?, 'city', 'City', 'text', ?, ?)`, []any{ws, now, now}},
				{`INSERT INTO contact_field_values (contact_id, field_id, workspace_id, value, updated_by, updated_at)
					VALUES ('ct-1', 'f-1', ?, ?, 'user:u1', ?)`, []any{ws, []byte{7}, now}},
				{`INSERT INTO tags (id, workspace_id, name, name_key, created_at, updated_at) VALUES ('t-1', ?, 'VIP', 'vip', ?, ?)`, []any{ws, now, now}},
				{`INSERT INTO contact_tags (contact_id, tag_id, workspace_id, created_by, created_at) VALUES ('ct-1', 't-1', ?, 'user:u1', ?)`, []any{ws, now}},
				{`INSERT INTO contact_activity (id, workspace_id, contact_id, kind, actor, data, created_at)
					VALUES ('a-1', ?, 'ct-1', 'note', 'user:u1', ?, ?)`, []any{ws, []byte{5}, now}},
			} {
				if _, err := d.W.NewRaw(q.sql, q.args...).Exec(ctx); err != nil {
					t.Fatalf("%s: %v", q.sql, err)
				}
			}
			cols := columnsOf(t, d)
			before, schema := snapshot(t, d, cols), schemaOf(t, d)

			if _, err := p.UpTo(ctx, identities); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, snapshot(t, d, cols)); diff != "" {
				t.Errorf("rows changed by the migration (-before +after):\n%s", diff)
			}
			want := append([]string(nil), schema...)
			if diff := cmp.Diff(want, withoutNew(schemaOf(t, d))); diff != "" {
				t.Errorf("indexes or foreign keys of contacts changed (-before +after):\n%s", diff)
			}
			if d.Dialect == db.SQLite {
				var on int
				if err := d.W.NewRaw(`PRAGMA foreign_keys`).Scan(ctx, &on); err != nil || on != 1 {
					t.Errorf("foreign keys after the migration: %d, %v", on, err)
				}
				var broken []string
				if err := d.W.NewRaw(`SELECT "table" FROM pragma_foreign_key_check`).Scan(ctx, &broken); err != nil || len(broken) != 0 {
					t.Errorf("foreign key check: %v, %v", broken, err)
				}
			}
			// A contact without a channel now fits; one with only half an
			// identity does not.
			if _, err := d.W.NewRaw(`INSERT INTO contacts (id, workspace_id, created_at, updated_at) VALUES ('ct-3', ?, ?, ?)`, ws, now, now).Exec(ctx); err != nil {
				t.Errorf("channel-less contact refused: %v", err)
			}
			if _, err := d.W.NewRaw(`INSERT INTO contacts (id, workspace_id, channel_id, created_at, updated_at) VALUES ('ct-4', ?, ?, ?, ?)`, ws, ch.ID, now, now).Exec(ctx); err == nil {
				t.Error("a contact with a channel but no external ID was accepted")
			}
			// The dependents follow the new table: deleting a contact still
			// cascades.
			if _, err := d.W.NewRaw(`DELETE FROM contacts WHERE id = 'ct-1'`).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			var left int
			if err := d.W.NewRaw(`SELECT (SELECT count(*) FROM conversations) + (SELECT count(*) FROM messages)
				+ (SELECT count(*) FROM contact_field_values) + (SELECT count(*) FROM contact_tags) + (SELECT count(*) FROM contact_activity)`).
				Scan(ctx, &left); err != nil || left != 0 {
				t.Errorf("%d dependent rows survived their contact's deletion, %v", left, err)
			}

			// Down (channel-less contacts go) and up again.
			if _, err := p.DownTo(ctx, beforeIdentities); err != nil {
				t.Fatal(err)
			}
			var ids []string
			if err := d.W.NewRaw(`SELECT id FROM contacts ORDER BY id`).Scan(ctx, &ids); err != nil || !cmp.Equal(ids, []string{"ct-2"}) {
				t.Errorf("contacts after down = %v, %v", ids, err)
			}
			if diff := cmp.Diff(schema, schemaOf(t, d)); diff != "" {
				t.Errorf("schema after down (-before +after):\n%s", diff)
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// withoutNew drops what migration 00024 adds: the foreign key of
// contact_identities.
func withoutNew(s []string) []string {
	var out []string
	for _, x := range s {
		if !strings.Contains(x, "contact_identities") {
			out = append(out, x)
		}
	}
	return out
}

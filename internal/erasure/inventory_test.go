package erasure_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/erasure"
	"github.com/parleyhq/parley/internal/retention"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// schema returns every table's columns on d.
func schema(t *testing.T, d *db.DB) map[string][]string {
	t.Helper()
	ctx := context.Background()
	var rows []struct {
		Table  string `bun:"t"`
		Column string `bun:"c"`
	}
	var err error
	switch d.Dialect {
	case db.SQLite:
		err = d.R.NewRaw(`SELECT m.name AS t, c.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) c
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE 'goose_%'`).Scan(ctx, &rows)
	default:
		err = d.R.NewRaw(`SELECT table_name AS t, column_name AS c FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name NOT LIKE 'goose_%'`).Scan(ctx, &rows)
	}
	if err != nil || len(rows) == 0 {
		t.Fatalf("schema: %d columns, %v", len(rows), err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		out[r.Table] = append(out[r.Table], r.Column)
	}
	return out
}

// Test plan O-3: every column of the schema, on both databases, has a
// class in the data inventory, and the inventory names no column that
// does not exist; so a new column cannot silently escape erasure and
// retention. A column missing here is classified in inventory.go (owners
// of other packages report their new columns' classes to the lead).
func TestInventoryCoversTheSchema(t *testing.T) {
	valid := map[erasure.Class]bool{erasure.None: true, erasure.ID: true, erasure.PII: true, erasure.Content: true, erasure.Secret: true, erasure.Operational: true}
	inv := map[string]erasure.Table{}
	for _, tb := range erasure.Inventory() {
		if _, dup := inv[tb.Name]; dup {
			t.Errorf("table %s listed twice", tb.Name)
		}
		inv[tb.Name] = tb
		for col, c := range tb.Columns {
			if !valid[c] {
				t.Errorf("%s.%s: unknown class %q", tb.Name, col, c)
			}
		}
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		got := schema(t, d)
		var missing, stale []string
		for table, cols := range got {
			tb, ok := inv[table]
			for _, c := range cols {
				if _, classified := tb.Columns[c]; !ok || !classified {
					missing = append(missing, table+"."+c)
				}
			}
		}
		for name, tb := range inv {
			for c := range tb.Columns {
				if !slices.Contains(got[name], c) {
					stale = append(stale, name+"."+c)
				}
			}
		}
		sort.Strings(missing)
		sort.Strings(stale)
		if len(missing) > 0 {
			t.Errorf("columns without a class in the data inventory (internal/erasure/inventory.go):\n  %s", strings.Join(missing, "\n  "))
		}
		if len(stale) > 0 {
			t.Errorf("the data inventory names columns the schema does not have:\n  %s", strings.Join(stale, "\n  "))
		}
	})
}

// O-3: a table that keys rows by contact is erased with the contact: the
// inventory says so, and EraseContact deletes from it itself or a hook
// named in the inventory's note does. And every table EraseContact
// deletes from is one the inventory marks so.
func TestInventoryErasureAgrees(t *testing.T) {
	erased := map[string]bool{}
	for _, tb := range erasure.ContactTables() {
		erased[tb] = true
	}
	for _, tb := range erasure.Inventory() {
		_, keyed := tb.Columns["contact_id"]
		switch {
		case keyed && !tb.Erasure.Contact:
			t.Errorf("%s has contact_id but the inventory does not erase it with the contact", tb.Name)
		case tb.Erasure.Contact && !erased[tb.Name] && !strings.Contains(tb.Erasure.Note, "hook") && !strings.Contains(tb.Erasure.Note, "cascade"):
			t.Errorf("%s: the inventory says erased with the contact, but EraseContact does not delete from it and no hook or cascade is named", tb.Name)
		case erased[tb.Name] && !tb.Erasure.Contact:
			t.Errorf("%s: EraseContact deletes from it but the inventory does not say so", tb.Name)
		}
		if tb.Erasure.Contact && !tb.Erasure.Workspace && tb.Name != "webhook_deliveries" && tb.Name != "search_cursors" {
			t.Errorf("%s: contact rows that do not go with the workspace", tb.Name)
		}
		delete(erased, tb.Name)
	}
	for tb := range erased {
		t.Errorf("EraseContact deletes from %s, which the inventory does not list", tb)
	}
}

// The inventory's retention classes are package retention's.
func TestInventoryRetentionClasses(t *testing.T) {
	known := map[string]bool{}
	for _, c := range []retention.Class{retention.ClassMessages, retention.ClassAttachments, retention.ClassRawPayloads,
		retention.ClassOperational, retention.ClassAuditLog, retention.ClassExports} {
		known[string(c)] = true
	}
	for _, tb := range erasure.Inventory() {
		if r := tb.Erasure.Retention; r != "" && !known[r] {
			t.Errorf("%s: retention class %q is not one of package retention's", tb.Name, r)
		}
	}
}

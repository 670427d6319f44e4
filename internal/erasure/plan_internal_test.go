package erasure

import (
	"context"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Erasing a contact holds the SQLite writer, so none of its statements may
// walk a whole table that grows with traffic (messages, events, search
// entries): each reaches its rows through an index. SQLite's plan says
// "SCAN <table>" for a full walk and "SEARCH <table> USING …" otherwise.
func TestEraseStatementsUseIndexes(t *testing.T) {
	d := dbtest.SQLite(t)
	ctx := context.Background()
	big := map[string]bool{"messages": true, "conversation_events": true, "search_docs": true, "search_grams": true,
		"conversations": true, "contact_activity": true, "flow_sessions": true}
	plan := func(q string, args ...any) []string {
		t.Helper()
		var rows []struct {
			ID     int    `bun:"id"`
			Parent int    `bun:"parent"`
			NotUse int    `bun:"notused"`
			Detail string `bun:"detail"`
		}
		if err := d.R.NewRaw("EXPLAIN QUERY PLAN "+q, args...).Scan(ctx, &rows); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var out []string
		for _, r := range rows {
			out = append(out, r.Detail)
		}
		return out
	}
	check := func(what, q string, args ...any) {
		t.Helper()
		for _, step := range plan(q, args...) {
			f := strings.Fields(step)
			if len(f) >= 2 && f[0] == "SCAN" && big[f[1]] {
				t.Errorf("%s walks %s: %q", what, f[1], step)
			}
		}
	}
	for _, st := range contactStatements() {
		args := make([]any, len(st.args))
		for i := range args {
			args[i] = "x"
		}
		check("delete from "+st.table, st.sql, args...)
	}
	check("the contact's messages", sqlContactMessages, "w", "c", "w")
}

package db_test

import (
	"testing"

	"github.com/parleyhq/parley/internal/db"
)

// FoldKey makes names that people read as the same one key, whatever
// their letter case or Unicode composition, and keeps different names
// apart.
func TestFoldKey(t *testing.T) {
	same := [][]string{
		{"VIP", "vip", "ViP"},
		{"Straße", "STRASSE", "strasse"},
		{"Café", "CAFÉ", "Cafe\u0301"},
		{"ΣΊΣΥΦΟΣ", "σίσυφος", "σίσυφοσ"},
		{"ភ្ញៀវថ្មី", "ភ្ញៀវថ្មី"},
	}
	for _, names := range same {
		for _, n := range names[1:] {
			if db.FoldKey(n) != db.FoldKey(names[0]) {
				t.Errorf("FoldKey(%q) = %q, want FoldKey(%q) = %q", n, db.FoldKey(n), names[0], db.FoldKey(names[0]))
			}
		}
	}
	for _, pair := range [][2]string{{"Cafe", "Café"}, {"vip", "vip "}, {"New", "Won"}} {
		if db.FoldKey(pair[0]) == db.FoldKey(pair[1]) {
			t.Errorf("FoldKey(%q) = FoldKey(%q) = %q, want different keys", pair[0], pair[1], db.FoldKey(pair[0]))
		}
	}
}

// Rebind leaves SQLite's placeholders alone and numbers PostgreSQL's.
func TestRebind(t *testing.T) {
	const q = `SELECT id FROM t WHERE a = ? AND b IN (?, ?)`
	for _, tc := range []struct {
		dialect db.Dialect
		want    string
	}{
		{db.SQLite, q},
		{db.Postgres, `SELECT id FROM t WHERE a = $1 AND b IN ($2, $3)`},
	} {
		if got := (&db.DB{Dialect: tc.dialect}).Rebind(q); got != tc.want {
			t.Errorf("%s: Rebind = %q, want %q", tc.dialect, got, tc.want)
		}
	}
}

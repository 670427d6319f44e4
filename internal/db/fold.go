package db

import (
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// FoldKey is the key under which two names are the same for people: NFC,
// then full Unicode case folding ("Straße" and "STRASSE" agree, as do Greek
// final and medial sigma), then NFC again. Stores keep it in a name_key
// column under a unique index, so that uniqueness ignoring letter case is
// computed in Go and does not depend on the engine's collation (SQLite's
// NOCASE folds ASCII only; PostgreSQL's depends on the cluster's locale).
func FoldKey(s string) string {
	return norm.NFC.String(cases.Fold().String(norm.NFC.String(s)))
}

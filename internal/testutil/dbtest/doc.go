// Package dbtest gives tests a migrated database of each kind: a fresh SQLite
// file in t.TempDir() and, when PARLEY_TEST_POSTGRES_URL is set, a fresh
// schema in that PostgreSQL server, dropped when the test ends.
//
// Under CI=true a missing PARLEY_TEST_POSTGRES_URL fails the test instead of
// skipping it: CI must prove every store on both engines.
package dbtest

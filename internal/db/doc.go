// Package db opens Parley's database — SQLite (the default, embedded, pure
// Go) or PostgreSQL (for replicas) — and applies the embedded goose
// migrations for that engine at start.
//
// Stores live in the domain packages that own their tables and reach the
// database through bun (`?` placeholders work on both engines). Write
// through DB.W or a transaction from DB.Tx; read through DB.R. Always pass
// time.Time values from an injected clock rather than calling the engine's
// now(): the two engines format time differently, and tests need to move the
// clock.
//
// db imports nothing of Parley's; every package may import it.
package db

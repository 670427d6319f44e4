// Package app is the composition root: it turns a config.Config into a
// running Parley — logger, master key, database (migrated), keyring,
// domain services, job queue, HTTP surfaces (API, dashboard, health,
// metrics) behind the shared middleware — and stops it in the reverse order.
//
// Run is the whole program; cmd/parley/main.go only calls it. app may import
// every package; nothing imports app except cmd and tests.
package app

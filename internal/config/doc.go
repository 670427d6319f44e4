// Package config reads Parley's settings: one Config struct filled from
// PARLEY_* environment variables and flags of the same name (flags win),
// every field documented, every invalid value reported at start with the
// variable's name. The defaults run a complete instance on SQLite in ./data
// with nothing set. README.md's settings table is checked against Docs().
//
// config imports only the standard library.
package config

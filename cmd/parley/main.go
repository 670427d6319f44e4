package main

import (
	"context"
	"os"
	"runtime/debug"
	// The IANA zone database, embedded (about 450 kB): workspaces' time
	// zones load the same on hosts and images without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/parleyhq/parley/internal/app"
)

// gcPercent is the garbage collector's target unless GOGC says otherwise.
// Parley's live heap is small (tens of MB) and its hot path allocates per
// message, so Go's default of 100 spent ≈ 15% of the process's CPU on
// collection in the reply benchmark; 400 cut CPU per message by ≈ 15%
// for a heap that peaks at a few times the live one, well inside the
// memory targets (make bench: rss_mb_1m_contacts, overload_rss_mb).
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(app.Run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

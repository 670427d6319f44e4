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
// collection in the reply benchmark. 200 cut CPU per message by ≈ 7–10%;
// the peak resident memory in the overload benchmark went from 134 to
// ≈ 195 MB. 400 saved a little more CPU but peaked at ≈ 320 MB: not worth
// it on a small server. Operators may set GOGC and GOMEMLIMIT as usual.
const gcPercent = 200

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(app.Run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

package main

import (
	"context"
	"os"
	// The IANA zone database, embedded (about 450 kB): workspaces' time
	// zones load the same on hosts and images without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/parleyhq/parley/internal/app"
)

func main() {
	os.Exit(app.Run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

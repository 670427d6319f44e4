package main

import (
	"context"
	"os"

	"github.com/parleyhq/parley/internal/app"
)

func main() {
	os.Exit(app.Run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

package app

import (
	"io"
	"log/slog"

	"github.com/parleyhq/parley/internal/config"
)

// NewLogger builds the process logger: text for a terminal, JSON in
// production. What goes into it is decided at each call site: request IDs,
// route patterns, codes and IDs; never bodies, passwords, tokens, message
// content or personal data (promise P-36, tested in log_test.go).
func NewLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

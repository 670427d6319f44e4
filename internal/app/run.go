package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/metasim"
)

// Version is set at build time with -ldflags "-X …/app.Version=…".
var Version = "dev"

const usage = `Parley — conversations, automation and CRM for Messenger, Instagram, WhatsApp and web chat.

Usage:
  parley [serve] [flags]   serve the dashboard, API and webhooks (the default)
  parley migrate [flags]   apply database migrations and exit
  parley dev metasim [-addr 127.0.0.1:8090]
                           run the Meta simulator on its own (for trying
                           webhooks and the Graph API by hand)
  parley pause|resume [--workspace ID] [--outbound] [--processing] --reason TEXT
                           the kill switch: pause or resume outbound sending
                           and/or webhook processing (parley pause -h)
  parley status            what the kill switch has paused
  parley backup --out DIR  back up the SQLite database without key material
  parley restore --from DIR [--tombstones FILE]
                           restore a backup, replaying erasures first
  parley tombstones export|replay
                           keep the erasure log outside backups; replay it
                           after a restore (parley backup -h)
  parley version           print the version
  parley help              show this help and the settings

Every setting is an environment variable or a flag of the same name
(PARLEY_BASE_URL or -base-url):
`

// Run is the program: it parses args (without the program name), runs the
// command and returns the process exit code.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "parley", Version)
		return 0
	case "help", "-h", "--help":
		printHelp(stdout)
		return 0
	case "dev":
		return dev(ctx, args, stdout, stderr)
	case "pause", "resume", "status":
		return killSwitchCommand(ctx, cmd, args, getenv, stdout, stderr)
	case "backup", "restore", "tombstones":
		return backupCommand(ctx, cmd, args, getenv, stdout, stderr)
	case "serve", "migrate":
	default:
		fmt.Fprintf(stderr, "parley: unknown command %q\n\n", cmd)
		printHelp(stderr)
		return 2
	}
	cfg, err := config.Load(args, getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 2
	}
	log := NewLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if cmd == "migrate" {
		return migrate(ctx, cfg, log, stdout)
	}
	if err := serve(ctx, cfg, log, stdout); err != nil {
		log.Error("parley stopped", "err", err)
		return 1
	}
	return 0
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, usage)
	for _, d := range config.Docs() {
		def := d.Default
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(w, "  %-26s %s (default %s)\n", d.Env, d.Help, def)
	}
}

func migrate(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) int {
	d, err := openDB(ctx, cfg)
	if err != nil {
		log.Error("open database", "err", err)
		return 1
	}
	defer d.Close()
	n, err := d.Migrate(ctx)
	if err != nil {
		log.Error("migrate", "err", err)
		return 1
	}
	cur, _, _ := d.MigrationStatus(ctx)
	fmt.Fprintf(stdout, "applied %d migrations; database at version %d\n", n, cur)
	return 0
}

// serve runs Parley until ctx ends, then drains.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) error {
	a, err := New(ctx, cfg, Options{Log: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		a.Close(context.Background())
		return fmt.Errorf("listen on %s (PARLEY_ADDR): %w", cfg.Addr, err)
	}
	if err := a.Start(ctx); err != nil {
		ln.Close()
		a.Close(context.Background())
		return err
	}
	a.Listening("http://" + ln.Addr().String())
	if cfg.DebugAddr != "" {
		stopDebug, err := serveDebug(cfg.DebugAddr, log)
		if err != nil {
			ln.Close()
			a.Close(context.Background())
			return err
		}
		defer stopDebug()
	}
	srv := a.HTTPServer()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "Parley %s is running at %s (database: %s)\n", Version, cfg.BaseURL, a.DB.Dialect)
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			a.Close(context.Background())
			return fmt.Errorf("http server: %w", err)
		}
	}
	log.Info("stopping: draining requests and jobs", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// Event streams never go idle: end them first, or Shutdown would wait
	// for them until its deadline.
	a.Events.Close()
	shutdownErr := srv.Shutdown(sctx)
	closeErr := a.Close(sctx)
	return errors.Join(shutdownErr, closeErr)
}

// HTTPServer returns a server with every timeout set, so slow clients
// cannot hold connections open (security.md D-6).
func (a *App) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		// Streams (server-sent events) lift this per response with
		// http.ResponseController.
		WriteTimeout:   2 * time.Minute,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       log.New(redactedLog{a.Log}, "", 0),
	}
}

// redactedLog takes net/http's own error lines ("http: TLS handshake error
// from 203.0.113.9:5123: …") into the structured log without the client's
// address, which is personal data (promise P-36).
type redactedLog struct{ log *slog.Logger }

var addrPattern = regexp.MustCompile(`\[?[0-9a-fA-F:.]{3,}\]?:[0-9]{1,5}`)

func (l redactedLog) Write(p []byte) (int, error) {
	msg := addrPattern.ReplaceAllString(strings.TrimSpace(string(p)), "<addr>")
	l.log.Warn("http server", "msg", msg)
	return len(p), nil
}

// dev runs developer tools: today only the standalone Meta simulator.
func dev(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "metasim" {
		fmt.Fprintln(stderr, "parley dev: want a tool: metasim")
		return 2
	}
	fs := flag.NewFlagSet("parley dev metasim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := metasim.Run(ctx, *addr, stdout); err != nil {
		fmt.Fprintln(stderr, "parley dev metasim:", err)
		return 1
	}
	return 0
}

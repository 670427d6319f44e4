package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/killswitch"
	"github.com/parleyhq/parley/internal/validate"
)

// killSwitch builds the operator's kill switch (promise P-37), before the
// messaging services that honour it: the webhook processor (processing,
// globally and per workspace) and the inbox's send paths (outbound).
// Resuming outbound wakes the send queue, so held replies go at once
// rather than at their next look.
func (a *App) killSwitch() {
	a.KillSwitch = killswitch.New(a.DB, killswitch.Options{
		Now: a.Now, Log: a.Log, Users: a.Accounts,
		Changed: func(_, _ *killswitch.Snapshot) {
			if a.Sends != nil {
				a.Sends.Notify()
			}
		},
	})
}

// killSwitchUsage documents the operator commands.
const killSwitchUsage = `Usage:
  parley pause  [--workspace ID] [--outbound] [--processing] --reason TEXT
  parley resume [--workspace ID] [--outbound] [--processing] --reason TEXT
  parley status

pause stops outbound sending (nothing reaches Meta's Send API; replies stay
queued) and/or automated processing (webhooks are still verified, stored
and acknowledged, but not applied), for every workspace or for one. With
neither --outbound nor --processing, both. resume lifts what it names and
the backlog drains in order. Every running Parley process follows within
5 seconds. Each toggle is written to the audit log with its reason.

The database is the one the environment names (PARLEY_DATABASE_URL or
PARLEY_DATA_DIR), as for parley serve.
`

// killSwitchCommand runs parley pause, resume or status.
func killSwitchCommand(ctx context.Context, cmd string, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("parley "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, killSwitchUsage) }
	ws := fs.String("workspace", "", "the workspace ID (default: every workspace)")
	outbound := fs.Bool("outbound", false, "outbound sending")
	processing := fs.Bool("processing", false, "automated processing of webhooks")
	reason := fs.String("reason", "", "why (kept in the audit log)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "parley %s: unexpected argument %q\n\n%s", cmd, fs.Arg(0), killSwitchUsage)
		return 2
	}
	cfg, err := config.Load(nil, getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	d, err := openDB(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 1
	}
	defer d.Close()
	ks := killswitch.New(d, killswitch.Options{Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return time.Now().UTC() }})
	if cmd != "status" {
		if !*outbound && !*processing {
			*outbound, *processing = true, true
		}
		c := killswitch.Change{WorkspaceID: *ws, Outbound: *outbound, Processing: *processing, Reason: *reason}
		by := killswitch.Operator{Host: true, HostUser: getenv("USER")}
		toggle := ks.Pause
		if cmd == "resume" {
			toggle = ks.Resume
		}
		if err := toggle(ctx, by, c); err != nil {
			fmt.Fprintln(stderr, "parley "+cmd+":", killSwitchError(err))
			return 1
		}
	}
	return printPauses(ctx, ks, stdout, stderr)
}

// killSwitchError words a toggle's error for the terminal.
func killSwitchError(err error) string {
	if ve, ok := validate.As(err); ok {
		if ve.Field == "what" {
			return ve.Message
		}
		return "--" + ve.Field + ": " + ve.Message
	}
	if errors.Is(err, db.ErrNotFound) {
		return "no such workspace"
	}
	return err.Error()
}

// printPauses prints what is paused now.
func printPauses(ctx context.Context, ks *killswitch.Service, stdout, stderr io.Writer) int {
	ps, err := ks.Status(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 1
	}
	if len(ps) == 0 {
		fmt.Fprintln(stdout, "Nothing is paused: sending and processing run normally.")
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCOPE\tOUTBOUND\tPROCESSING\tSINCE\tBY\tREASON")
	for _, p := range ps {
		scope := "every workspace"
		if !p.Global() {
			scope = "workspace " + p.WorkspaceID
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", scope, onOff(p.Outbound), onOff(p.Processing),
			p.PausedAt.UTC().Format(time.RFC3339), p.PausedBy, p.Reason)
	}
	tw.Flush()
	return 0
}

func onOff(paused bool) string {
	if paused {
		return "paused"
	}
	return "running"
}

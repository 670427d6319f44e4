package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// Two environment variables help whoever works on Parley's speed; `make
// bench` sets neither:
//
//   - BENCH_PROFILE=file.pprof saves a CPU profile of the Parley process
//     during the reply scenario's first run (go tool pprof bin/parley
//     file.pprof);
//   - BENCH_SCENARIOS=reply,overload runs only those scenarios (after the
//     setup, which every scenario needs).
const (
	profileEnv   = "BENCH_PROFILE"
	scenariosEnv = "BENCH_SCENARIOS"
)

// wanted reports whether the scenario named runs in this run.
func wanted(name string) bool {
	list := os.Getenv(scenariosEnv)
	if list == "" {
		return true
	}
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == name {
			return true
		}
	}
	return false
}

// profiler captures one CPU profile from Parley's PARLEY_DEBUG_ADDR.
type profiler struct {
	addr, file string
	done       chan error
}

// startProfile begins a CPU profile of d when BENCH_PROFILE names a file;
// otherwise it returns nil, whose wait does nothing.
func startProfile(ctx context.Context, addr string, d time.Duration) *profiler {
	file := os.Getenv(profileEnv)
	if file == "" || addr == "" {
		return nil
	}
	p := &profiler{addr: addr, file: file, done: make(chan error, 1)}
	go func() { p.done <- p.fetch(ctx, d) }()
	return p
}

func (p *profiler) fetch(ctx context.Context, d time.Duration) error {
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.addr, int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s", resp.Status)
	}
	f, err := os.Create(p.file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// wait reports the profile's outcome on stderr.
func (p *profiler) wait() {
	if p == nil {
		return
	}
	if err := <-p.done; err != nil {
		fmt.Fprintln(os.Stderr, "bench: cpu profile:", err)
		return
	}
	fmt.Fprintln(os.Stderr, "bench: cpu profile of parley saved to", p.file)
}

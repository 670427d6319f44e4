package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is the kernel's USER_HZ, the unit of utime and stime in
// /proc/<pid>/stat. It is 100 on every Linux architecture Go supports.
const clockTicks = 100

// moduleRoot is the repository's root, wherever the benchmark is started.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	mod := strings.TrimSpace(string(out))
	if err != nil || mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("find the module root (run from the repository): %v", err)
	}
	return filepath.Dir(mod), nil
}

// buildParley compiles ./cmd/parley into out, as `make build` would.
func buildParley(ctx context.Context, root, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/parley")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/parley: %w", err)
	}
	return nil
}

// Parley is one parley subprocess serving on a loopback port.
type Parley struct {
	// URL is where it answers, like http://127.0.0.1:41234.
	URL string
	cmd *exec.Cmd
	log string // file holding its stderr
	// exited is closed once the process has been reaped; err is then its
	// exit status.
	exited chan struct{}
	err    error
}

// startParley runs bin serve with env (PARLEY_* settings; PARLEY_ADDR is
// chosen here) and waits until /readyz answers 200. Its output goes to
// logFile, whose tail is quoted when it fails to start.
func startParley(ctx context.Context, bin, logFile string, env map[string]string) (*Parley, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	out, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("parley: open log: %w", err)
	}
	defer out.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, "serve")
	cmd.Env = childEnv(env, map[string]string{"PARLEY_ADDR": addr})
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("parley: start: %w", err)
	}
	p := &Parley{URL: "http://" + addr, cmd: cmd, log: logFile, exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	if err := waitReady(ctx, p.URL+"/readyz", p.exited, 60*time.Second); err != nil {
		p.Kill() // reaps it: p.err is its exit status from here on
		return nil, fmt.Errorf("parley: %w (exit status: %v)\n%s", err, p.err, tail(logFile, 2000))
	}
	return p, nil
}

// childEnv is this process's environment without any PARLEY_* setting
// (so a developer's own settings cannot leak into the run), plus sets.
func childEnv(sets ...map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			env = append(env, kv)
		}
	}
	for _, s := range sets {
		for k, v := range s {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// freeAddr asks the kernel for a free loopback port. Another process could
// take it before Parley binds it; on a benchmark machine that does not
// happen, and Parley would then fail loudly rather than measure wrong.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("parley: find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady polls url until it answers 200, failing when the process
// behind it exits (exited is closed) or limit passes.
func waitReady(ctx context.Context, url string, exited <-chan struct{}, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-exited:
			return fmt.Errorf("%s: the process exited before it was ready", url)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if res, err := c.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s", url, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Pid is the process ID.
func (p *Parley) Pid() int { return p.cmd.Process.Pid }

// CPU is the processor time the process has used so far, user and system.
func (p *Parley) CPU() (time.Duration, error) { return cpuOf(p.Pid()) }

// cpuOf reads a process's user and system time from /proc/<pid>/stat.
func cpuOf(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu: %w", err)
	}
	// The command name (field 2) may hold spaces and parentheses; the
	// fields after its closing parenthesis are plain: state is field 3, so
	// utime (14) and stime (15) are the 12th and 13th after it.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("parse cpu: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// PeakRSS is the largest resident set the process has had (VmHWM).
func (p *Parley) PeakRSS() (bytesUsed int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, fmt.Errorf("parley: read memory: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parley: parse VmHWM: %w", err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("parley: no VmHWM in /proc status")
}

// Stop asks Parley to shut down (SIGTERM: it drains requests and jobs)
// and waits for it, killing it after limit.
func (p *Parley) Stop(limit time.Duration) error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.err
	case <-time.After(limit):
		p.Kill()
		return fmt.Errorf("parley did not stop within %s; killed", limit)
	}
}

// Kill ends the process at once (SIGKILL) and reaps it.
func (p *Parley) Kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// tail returns the last n bytes of a file, for error messages.
func tail(file string, n int64) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	if int64(len(b)) > n {
		b = b[int64(len(b))-n:]
	}
	return "--- " + filepath.Base(file) + " (tail) ---\n" + string(b)
}

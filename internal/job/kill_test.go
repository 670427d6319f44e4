package job

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Environment of the helper process.
const (
	helperDSN = "PARLEY_JOB_HELPER_DSN" // PostgreSQL connection string, or empty for SQLite
	helperDir = "PARLEY_JOB_HELPER_DIR" // SQLite data directory
)

// helperLease is the child's lease: the parent waits this long (at most)
// after the kill before the job can be reclaimed.
const helperLease = 2 * time.Second

// TestHelperProcess is not a test: TestKilledWorkerJobRunsAgain runs the
// test binary again with helperEnv set, and this function then plays a
// worker process that claims the "victim" job, reports it on stdout and
// hangs in the handler until it is killed.
func TestHelperProcess(t *testing.T) {
	if !isHelper() {
		t.Skip("helper process for TestKilledWorkerJobRunsAgain")
	}
	ctx := context.Background()
	d, err := db.Open(ctx, os.Getenv(helperDSN), os.Getenv(helperDir), db.Options{})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	q := New(d, testOptions(Options{Lease: helperLease, WorkerID: fmt.Sprintf("helper-%d", os.Getpid())}))
	q.Register("victim", func(ctx context.Context, j *Job) error {
		fmt.Printf("CLAIMED %d\n", j.ID)
		time.Sleep(waitLimit) // until SIGKILL; the parent gives up long before this
		return nil
	})
	if err := q.Start(ctx); err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	time.Sleep(2 * waitLimit)
	os.Exit(3) // never killed: the parent failed already
}

// A worker process killed with SIGKILL in the middle of a job leaves the job
// leased in the table; once the lease runs out, another process's queue
// reclaims it and runs it again.
func TestKilledWorkerJobRunsAgain(t *testing.T) {
	for _, dl := range dbtest.Dialects(t) {
		t.Run(string(dl), func(t *testing.T) {
			d, _, dsn, dir := shared(t, dl)
			producer := New(d, testOptions(Options{}))
			id := mustEnqueue(t, producer, "victim", "payload")

			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), helperEnv+"=1", helperDSN+"="+dsn, helperDir+"="+dir)
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			lines := make(chan string, 16)
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			deadline := time.After(waitLimit)
			for claimed := false; !claimed; {
				var line string
				var ok bool
				select {
				case line, ok = <-lines:
				case <-deadline:
					t.Fatal("timed out waiting for the child to claim the job")
				}
				switch {
				case !ok:
					t.Fatal("the child exited before claiming the job")
				case strings.HasPrefix(line, "ERROR"):
					t.Fatalf("child: %s", line)
				case line == fmt.Sprintf("CLAIMED %d", id):
					claimed = true
				}
			}
			by, _ := lease(t, d, id)
			if want := fmt.Sprintf("helper-%d", cmd.Process.Pid); by != want {
				t.Fatalf("job locked by %q, want the child %q", by, want)
			}

			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("child exit: %v, want killed", err)
			}
			if j, ok := row(t, d, id); !ok || j.State != Running {
				t.Fatalf("after the kill the job is %+v (exists %v), want still running under the dead lease", j, ok)
			}

			ran := make(chan Job, 1)
			q := newQueue(t, d, Options{Lease: 300 * time.Millisecond})
			q.Register("victim", func(ctx context.Context, j *Job) error { ran <- *j; return nil })
			start(t, q)
			got := recv(t, ran, "the job to be reclaimed and run again")
			if got.ID != id || got.Attempts != 2 || got.LastError != leaseExpired || string(got.Payload) != `"payload"` {
				t.Errorf("re-run: id %d attempt %d error %q payload %s; want %d, 2, %q, \"payload\"",
					got.ID, got.Attempts, got.LastError, got.Payload, id, leaseExpired)
			}
			waitFor(t, "the job to finish", func() bool { _, ok := row(t, d, id); return !ok })
		})
	}
}

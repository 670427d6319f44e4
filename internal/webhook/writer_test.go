package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/webhook"
)

// A verified delivery whose client has already gone is stored anyway:
// Meta will retry it, and the inbox deduplicates the copy.
func TestClientGoneStillStored(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, webhook.Path, strings.NewReader(asciiBody))
		r.Header.Set(webhook.SignatureHeader, asciiSig)
		e.handler.ServeHTTP(httptest.NewRecorder(), r)
		if n := deliveries(t, d); n != 1 {
			t.Errorf("%d deliveries, want 1", n)
		}
	})
}

// Security test M-4 and the group commit's all-or-nothing: when the
// transaction fails, every request of the batch gets 503 and no delivery
// is left behind; once it works again, so does intake.
func TestCommitFailure(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, nil)
		e.in.SetBeforeCommit(func() error { return errors.New("disk full") })
		var wg sync.WaitGroup
		codes := make([]int, 20)
		for i := range codes {
			wg.Go(func() { codes[i] = e.post(asciiBody, "", asciiSig).Code })
		}
		wg.Wait()
		for i, c := range codes {
			if c != http.StatusServiceUnavailable {
				t.Errorf("request %d: status %d, want 503", i, c)
			}
		}
		if n := deliveries(t, d); n != 0 {
			t.Errorf("after failed commits: %d deliveries, want none", n)
		}
		if got := e.counts.get(webhook.OutcomeUnavailable); got != len(codes) {
			t.Errorf("unavailable observed %d times, want %d", got, len(codes))
		}
		// A panic inside the transaction fails its batch the same way and
		// leaves the writer running.
		e.in.SetBeforeCommit(func() error { panic("driver bug") })
		if w := e.post(asciiBody, "", asciiSig); w.Code != http.StatusServiceUnavailable {
			t.Errorf("after a panic: status %d, want 503", w.Code)
		}
		e.in.SetBeforeCommit(nil)
		if w := e.post(asciiBody, "", asciiSig); w.Code != http.StatusOK {
			t.Fatalf("after recovery: status %d", w.Code)
		}
		if n := deliveries(t, d); n != 1 {
			t.Errorf("after recovery: %d deliveries, want 1", n)
		}
	})
}

// Security test M-4: with the database gone, deliveries get 503, not 200.
func TestDatabaseDown(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, nil)
		d.Close()
		if w := e.post(asciiBody, "", asciiSig); w.Code != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503", w.Code)
		}
	})
}

// A full queue answers 503 after QueueWait instead of holding requests (and
// their bodies) without bound; the requests already queued still succeed.
func TestOverload(t *testing.T) {
	e := setup(t, dbtest.SQLite(t), func(o *webhook.Options) {
		o.QueueSize = 1
		o.QueueWait = 10 * time.Millisecond
	})
	inCommit, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.in.SetBeforeCommit(func() error {
		once.Do(func() { close(inCommit) })
		<-release
		return nil
	})
	first := make(chan int)
	go func() { first <- e.post(asciiBody, "", asciiSig).Code }()
	<-inCommit // the writer is busy with the first delivery
	second := make(chan int)
	go func() { second <- e.post(asciiBody, "", asciiSig).Code }()
	waitFor(t, "the second delivery to queue", func() bool { return e.in.Queued() == 1 })
	if c := e.post(asciiBody, "", asciiSig).Code; c != http.StatusServiceUnavailable {
		t.Errorf("third delivery: status %d, want 503", c)
	}
	close(release)
	if c := <-first; c != http.StatusOK {
		t.Errorf("first delivery: status %d", c)
	}
	if c := <-second; c != http.StatusOK {
		t.Errorf("second delivery: status %d", c)
	}
	if n := deliveries(t, e.d); n != 2 {
		t.Errorf("%d deliveries stored, want 2", n)
	}
}

// Stop stores and answers what is already queued, and refuses what comes
// after; an intake that never started refuses too.
func TestStartStop(t *testing.T) {
	d := dbtest.SQLite(t)
	e := setup(t, d, nil)
	inCommit, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.in.SetBeforeCommit(func() error {
		once.Do(func() { close(inCommit) })
		<-release
		return nil
	})
	codes := make(chan int, 3)
	go func() { codes <- e.post(asciiBody, "", asciiSig).Code }()
	<-inCommit
	for range 2 {
		go func() { codes <- e.post(asciiBody, "", asciiSig).Code }()
	}
	waitFor(t, "two deliveries to queue", func() bool { return e.in.Queued() == 2 })
	stopped := make(chan error)
	go func() { stopped <- e.in.Stop(context.Background()) }()
	close(release)
	for range 3 {
		if c := <-codes; c != http.StatusOK {
			t.Errorf("queued delivery: status %d, want 200", c)
		}
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if n := deliveries(t, d); n != 3 {
		t.Errorf("%d deliveries stored, want 3", n)
	}
	if c := e.post(asciiBody, "", asciiSig).Code; c != http.StatusServiceUnavailable {
		t.Errorf("after Stop: status %d, want 503", c)
	}
	if err := e.in.Start(context.Background()); err == nil {
		t.Error("Start after Stop succeeded")
	}

	idle := webhook.New(d, webhook.Options{Master: e.master, Jobs: e.jobs, AppSecrets: []string{appSecret}, Log: testLog()})
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, webhook.Path, strings.NewReader(asciiBody))
	r.Header.Set(webhook.SignatureHeader, asciiSig)
	if err := idle.Routes()[1].Handler(w, r); httpx.AsError(err).Status != http.StatusServiceUnavailable {
		t.Errorf("before Start: %v, want 503", err)
	}
	if err := idle.Stop(context.Background()); err != nil {
		t.Errorf("Stop before Start: %v", err)
	}
}

// A batch closes once its bodies reach 8 MiB, whatever BatchMax allows, so
// one store transaction (and what it hands the processor) stays bounded.
func TestBatchBytes(t *testing.T) {
	d := dbtest.SQLite(t)
	e := setup(t, d, nil)
	inCommit, release := make(chan struct{}), make(chan struct{})
	var (
		once  sync.Once
		mu    sync.Mutex
		sizes []int
	)
	e.in.SetBeforeCommitBatch(func(n int) error {
		mu.Lock()
		sizes = append(sizes, n)
		mu.Unlock()
		once.Do(func() {
			close(inCommit)
			<-release
		})
		return nil
	})
	codes := make(chan int, 5)
	go func() { codes <- e.post(asciiBody, "", asciiSig).Code }()
	<-inCommit
	big := `{"object":"page","entry":[],"pad":"` + strings.Repeat("x", 3<<20-100) + `"}`
	for range 4 {
		go func() { codes <- e.post(big, "", sign(big, appSecret)).Code }()
	}
	waitFor(t, "four large deliveries to queue", func() bool { return e.in.Queued() == 4 })
	close(release)
	for range 5 {
		if c := <-codes; c != http.StatusOK {
			t.Fatalf("status %d", c)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []int{1, 3, 1}; !slices.Equal(sizes, want) {
		t.Errorf("batch sizes %v, want %v (3 MiB bodies: the third reaches 8 MiB)", sizes, want)
	}
}

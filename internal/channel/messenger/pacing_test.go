package messenger

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/channel"
)

// testPacer has a clock that moves only when the test says so and records
// the waits instead of sleeping: pacing is checked by arithmetic, never by
// wall-clock timing.
type testPacer struct {
	*pacer
	clock time.Time
	waits []time.Duration
}

func newTestPacer(textRate, mediaRate float64, maxPages int) *testPacer {
	tp := &testPacer{clock: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	tp.pacer = newPacer(func() time.Time { return tp.clock }, textRate, mediaRate, maxPages)
	tp.wait = func(_ context.Context, d time.Duration) error {
		tp.waits = append(tp.waits, d)
		return nil
	}
	return tp
}

func TestPacerDefaults(t *testing.T) {
	p := newTestPacer(DefaultTextRate, DefaultMediaRate, DefaultMaxPages)
	// A burst of a tenth of a second goes at once, then one call every
	// 1/250 s: never more than 275 calls in a second, under Meta's 300.
	for i := range 25 {
		if err := p.take(context.Background(), "page", false); err != nil {
			t.Fatalf("take %d: %v", i, err)
		}
	}
	if len(p.waits) != 0 {
		t.Fatalf("the burst waited: %v", p.waits)
	}
	for range 3 {
		if err := p.take(context.Background(), "page", false); err != nil {
			t.Fatal(err)
		}
	}
	want := []time.Duration{4 * time.Millisecond, 8 * time.Millisecond, 12 * time.Millisecond}
	if diff := cmp.Diff(want, p.waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	// Media: one at once, then one every 1/8 s.
	p.waits = nil
	p.clock = p.clock.Add(time.Second)
	for range 3 {
		if err := p.take(context.Background(), "page", true); err != nil {
			t.Fatal(err)
		}
	}
	want = []time.Duration{125 * time.Millisecond, 250 * time.Millisecond}
	if diff := cmp.Diff(want, p.waits); diff != "" {
		t.Errorf("media waits (-want +got):\n%s", diff)
	}
}

func TestPacerPagesAreIndependent(t *testing.T) {
	p := newTestPacer(1, 1, 10)
	for _, page := range []string{"a", "b", "c"} {
		if err := p.take(context.Background(), page, false); err != nil {
			t.Fatal(err)
		}
	}
	if len(p.waits) != 0 {
		t.Errorf("one Page's pace held another back: %v", p.waits)
	}
	if err := p.take(context.Background(), "a", false); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]time.Duration{time.Second}, p.waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestPacerGivesUpBeforeTheDeadline(t *testing.T) {
	p := newTestPacer(1, 1, 10)
	if err := p.take(context.Background(), "a", false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := p.take(ctx, "a", false)
	var se *channel.SendError
	if !errors.As(err, &se) || se.Kind != channel.ErrRateLimited || se.RetryAfter != time.Second {
		t.Fatalf("take = %v, want rate_limited after 1s", err)
	}
	if len(p.waits) != 0 {
		t.Errorf("waited anyway: %v", p.waits)
	}
	// The turn was handed back: the next caller waits 1 s, not 2 s.
	if err := p.take(context.Background(), "a", false); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]time.Duration{time.Second}, p.waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestPacerCancelledWhileWaiting(t *testing.T) {
	p := newTestPacer(1, 1, 10)
	if err := p.take(context.Background(), "a", false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.wait = func(ctx context.Context, d time.Duration) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}
	err := p.take(ctx, "a", false)
	var se *channel.SendError
	if !errors.As(err, &se) || se.Kind != channel.ErrTransient {
		t.Fatalf("take = %v, want transient", err)
	}
	var got time.Duration
	p.wait = func(_ context.Context, d time.Duration) error { got = d; return nil }
	if err := p.take(context.Background(), "a", false); err != nil {
		t.Fatal(err)
	}
	if got != time.Second {
		t.Errorf("next wait = %v, want 1s (the cancelled turn handed back)", got)
	}
}

func TestPacerEvictsIdlePages(t *testing.T) {
	p := newTestPacer(10, 10, 3) // refill: 1 token at 10/s = 100 ms
	take := func(page string) {
		t.Helper()
		if err := p.take(context.Background(), page, false); err != nil {
			t.Fatal(err)
		}
	}
	take("a")
	take("b")
	take("c")
	p.clock = p.clock.Add(50 * time.Millisecond)
	take("c") // c is busy (waits), a and b are still refilling
	p.clock = p.clock.Add(60 * time.Millisecond)
	// a and b are full again, c is not: a new Page evicts a and b only.
	take("d")
	if _, ok := p.pages["c"]; !ok || len(p.pages) != 2 {
		t.Errorf("pages = %v, want c and d", keys(p.pages))
	}
	// With every Page busy, the map still stays bounded.
	for i := range 10 {
		take(fmt.Sprintf("busy%d", i))
		take(fmt.Sprintf("busy%d", i))
		if len(p.pages) > 3 {
			t.Fatalf("%d pages kept, max 3", len(p.pages))
		}
	}
}

func keys(m map[string]*buckets) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

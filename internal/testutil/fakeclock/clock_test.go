package fakeclock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/testutil/fakeclock"
)

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	c := fakeclock.New(t0)
	if !c.Now().Equal(t0) {
		t.Fatalf("Now = %v", c.Now())
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { c.Advance(time.Second) })
	}
	wg.Wait()
	if got := c.Now().Sub(t0); got != 10*time.Second {
		t.Errorf("after ten concurrent seconds: %v", got)
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Errorf("Set back: %v", c.Now())
	}
}

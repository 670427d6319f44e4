package webhook

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
)

// A processing transaction does not begin while a store transaction is
// running: process returns only after store's function has.
func TestPrecedence(t *testing.T) {
	p := newPrecedence()
	var returned atomic.Bool
	started := make(chan struct{})
	done := make(chan struct{})
	want := errors.New("store result")
	err := p.store(func() error {
		go func() {
			close(started)
			p.process()
			returned.Store(true)
			close(done)
		}()
		<-started
		for range 1000 {
			runtime.Gosched() // give a wrongly unblocked process every chance to return
		}
		if returned.Load() {
			t.Error("process returned while a store was running")
		}
		return want
	})
	if !errors.Is(err, want) {
		t.Errorf("store returned %v, want fn's error", err)
	}
	<-done // and once the store is over, process goes ahead

	// Without one (PostgreSQL), nothing waits.
	var none *precedence
	none.process()
	if err := none.store(func() error { return want }); !errors.Is(err, want) {
		t.Errorf("nil store returned %v", err)
	}
}

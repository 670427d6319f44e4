package gate_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/testutil/gate"
)

// An armed gate holds one Pass until released; the next passes at once.
func TestGate(t *testing.T) {
	var g gate.Gate
	g.Pass() // unarmed: no wait
	held, release := g.Hold()
	passed := make(chan struct{})
	go func() { g.Pass(); close(passed) }()
	<-held
	select {
	case <-passed:
		t.Fatal("Pass returned before release")
	case <-time.After(20 * time.Millisecond):
	}
	release()
	release() // twice is fine
	<-passed
	g.Pass() // disarmed again
}

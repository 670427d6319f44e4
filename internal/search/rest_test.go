package search

import (
	"testing"
	"time"
)

// While webhooks flow the indexer keeps to Duty of the time, leaving the
// writer to the reply path; once they have eased it catches up at
// IdleDuty, so a burst's backlog is searchable in seconds rather than
// minutes (at Duty alone, 23,500 messages of the reply benchmark took
// over four minutes). Without a Busy signal Duty always applies.
func TestRestFollowsTraffic(t *testing.T) {
	busy := true
	x := &Index{opt: Options{Duty: 0.05, IdleDuty: 0.5, Busy: func() bool { return busy }}}
	took := 10 * time.Millisecond
	near := func(got, want time.Duration) bool {
		d := got - want
		return d > -time.Microsecond && d < time.Microsecond
	}
	if got, want := x.rest(took), 190*time.Millisecond; !near(got, want) {
		t.Errorf("busy: rest %s after a %s batch, want %s (Duty 5%%)", got, took, want)
	}
	busy = false
	if got, want := x.rest(took), 10*time.Millisecond; !near(got, want) {
		t.Errorf("eased: rest %s after a %s batch, want %s (IdleDuty 50%%)", got, took, want)
	}
	x.opt.Busy = nil
	if got, want := x.rest(took), 190*time.Millisecond; !near(got, want) {
		t.Errorf("no Busy signal: rest %s, want %s (Duty)", got, want)
	}
}

package killswitch

import (
	"context"
	"fmt"
	"time"
)

// Snapshot is one reading of the pauses. It is immutable once installed:
// the maps are never written again, so the hot paths read them without
// locks.
type Snapshot struct {
	// Pauses as read, global first.
	Pauses []Pause
	// At is when it was read (the injected clock).
	At time.Time

	outboundAll, processingAll bool
	outbound                   map[string]bool
	processing                 map[string]bool
}

func emptySnapshot() *Snapshot {
	return &Snapshot{outbound: map[string]bool{}, processing: map[string]bool{}}
}

func newSnapshot(ps []Pause, at time.Time) *Snapshot {
	s := emptySnapshot()
	s.Pauses, s.At = ps, at
	for _, p := range ps {
		switch {
		case p.Global():
			s.outboundAll, s.processingAll = p.Outbound, p.Processing
		default:
			if p.Outbound {
				s.outbound[p.WorkspaceID] = true
			}
			if p.Processing {
				s.processing[p.WorkspaceID] = true
			}
		}
	}
	return s
}

// OutboundPaused reports whether sending for the workspace is paused,
// globally or for it.
func (s *Snapshot) OutboundPaused(workspaceID string) bool {
	return s.outboundAll || s.outbound[workspaceID]
}

// ProcessingPausedAll reports whether processing is paused globally.
func (s *Snapshot) ProcessingPausedAll() bool { return s.processingAll }

// ProcessingHeld returns the workspaces whose processing is paused on
// their own. The map must not be modified.
func (s *Snapshot) ProcessingHeld() map[string]bool { return s.processing }

// equal reports whether two snapshots pause the same things.
func (s *Snapshot) equal(o *Snapshot) bool {
	if s.outboundAll != o.outboundAll || s.processingAll != o.processingAll ||
		len(s.outbound) != len(o.outbound) || len(s.processing) != len(o.processing) {
		return false
	}
	for k := range s.outbound {
		if !o.outbound[k] {
			return false
		}
	}
	for k := range s.processing {
		if !o.processing[k] {
			return false
		}
	}
	return true
}

// Current is this process's snapshot: at most Bound old once Start ran.
func (s *Service) Current() *Snapshot { return s.snap.Load() }

// OutboundPaused reports whether outbound sending for the workspace is
// paused now (one map lookup; inbox.Options.SendHold).
func (s *Service) OutboundPaused(workspaceID string) bool {
	return s.snap.Load().OutboundPaused(workspaceID)
}

// ProcessingPaused reports whether processing is paused for every
// workspace (webhook.Options.Paused).
func (s *Service) ProcessingPaused() bool { return s.snap.Load().processingAll }

// HeldWorkspaces returns the workspaces whose processing is paused on
// their own, as an immutable set (webhook.Options.Held).
func (s *Service) HeldWorkspaces() map[string]bool { return s.snap.Load().processing }

// Refresh reads the pauses now and installs them as this process's
// snapshot.
func (s *Service) Refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	// Read and install under one lock, so an older reading (a poll that
	// began before a toggle committed) never replaces a newer one.
	s.mu.Lock()
	ps, err := s.read(ctx, s.d.R)
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("killswitch: refresh: %w", err)
	}
	next := newSnapshot(ps, s.now())
	old := s.snap.Swap(next)
	s.mu.Unlock()
	if !old.equal(next) {
		s.log.Info("kill switch state changed", "pauses", len(ps))
		if s.opt.Changed != nil {
			s.opt.Changed(old, next)
		}
	}
	return nil
}

// Start reads the pauses once — so that a process starting during an
// incident starts paused — and then polls every Options.Poll until Stop.
func (s *Service) Start(ctx context.Context) error {
	if err := s.Refresh(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return nil
	}
	s.started = true
	go s.poll()
	return nil
}

func (s *Service) poll() {
	defer close(s.done)
	t := time.NewTicker(s.opt.Poll)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			// On failure the previous snapshot stays: a database outage
			// neither lifts nor adds a pause.
			if err := s.Refresh(context.Background()); err != nil {
				s.log.Warn("kill switch poll failed; keeping the last state", "err", err)
			}
		}
	}
}

// Stop ends polling (idempotent).
func (s *Service) Stop() {
	s.mu.Lock()
	started := s.started
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.mu.Unlock()
	if started {
		<-s.done
	}
}

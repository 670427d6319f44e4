package web

import (
	"context"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/realtime"
	"github.com/parleyhq/parley/internal/team"
)

// events streams the workspace's live-update hints to an open dashboard
// page as Server-Sent Events (static/app.js listens on pages that carry
// data-live). The hints carry IDs only, and the page re-fetches what it
// shows through the ordinary, access-checked routes, so every member who
// may read the workspace may listen.
//
// A stream lasts Deps.StreamLifetime at most: access is checked when it
// opens, so ending it makes the browser reconnect through the checks again
// (a member removed, a session ended or a workspace deleted meanwhile gets
// a refusal, and EventSource then stops); the page catches up on reconnect.
//
// While the stream is open its member counts as present (Deps.Presence):
// an open dashboard is what "online" means for round-robin assignment.
// An administrator impersonating the member does not make them present.
func (d *Dashboard) events(w http.ResponseWriter, r *http.Request) error {
	if d.Events == nil {
		return httpx.NotFound("page")
	}
	s := access.ScopeFrom(r.Context())
	lifetime := d.StreamLifetime
	if lifetime <= 0 {
		lifetime = DefaultStreamLifetime
	}
	ctx, cancel := context.WithTimeout(r.Context(), lifetime)
	defer cancel()
	r = r.WithContext(ctx)
	// Subscribed with the request's context: the subscription ends with
	// the request.
	sub, err := d.Events.Subscribe(r.Context(), s.Workspace.ID, nil)
	if err != nil {
		return httpx.Errorf(http.StatusServiceUnavailable, "unavailable", "Live updates are not available right now.")
	}
	defer sub.Close()
	// An administrator acting as the member is not the member at their
	// desk: round-robin must not send them conversations for it.
	if p := access.PrincipalFrom(r.Context()); d.Presence != nil && p.Impersonator == nil {
		// Deferred after sub.Close, so it runs first: the presence beat
		// has ended before the handler returns.
		defer d.keepSeen(r.Context(), s.Workspace.ID, p.User.ID)()
	}
	if err := realtime.ServeSSE(w, r, sub, realtime.SSEOptions{}); err != nil {
		// The stream has started: the page's EventSource reconnects by
		// itself, and the error is only worth a line in the log.
		d.Log.Debug("event stream ended", "workspace", s.Workspace.ID, "err", err)
	}
	return nil
}

// DefaultStreamLifetime is how long a live stream lasts before the browser
// reconnects (and is checked again).
const DefaultStreamLifetime = 5 * time.Minute

// keepSeen tells Presence that userID is at the dashboard now and then
// every PresenceEvery, until ctx ends or the returned stop is called;
// stop waits for the beat to end, so no goroutine outlives the request.
func (d *Dashboard) keepSeen(ctx context.Context, workspaceID, userID string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	every := d.PresenceEvery
	if every <= 0 {
		every = team.SeenEvery
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if err := d.Presence.Seen(ctx, workspaceID, userID); err != nil && ctx.Err() == nil {
				// Not fatal to the stream: the member may only miss
				// automatic assignments until the next beat.
				d.Log.Warn("presence not recorded", "workspace", workspaceID, "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

package web

import (
	"net/http"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/realtime"
)

// events streams the workspace's live-update hints to an open dashboard
// page as Server-Sent Events (static/app.js listens on pages that carry
// data-live). The hints carry IDs only, and the page re-fetches what it
// shows through the ordinary, access-checked routes, so every member who
// may read the workspace may listen.
func (d *Dashboard) events(w http.ResponseWriter, r *http.Request) error {
	if d.Events == nil {
		return httpx.NotFound("page")
	}
	s := access.ScopeFrom(r.Context())
	// Subscribed with the request's context: the subscription ends with
	// the request.
	sub, err := d.Events.Subscribe(r.Context(), s.Workspace.ID, nil)
	if err != nil {
		return httpx.Errorf(http.StatusServiceUnavailable, "unavailable", "Live updates are not available right now.")
	}
	defer sub.Close()
	if err := realtime.ServeSSE(w, r, sub, realtime.SSEOptions{}); err != nil {
		// The stream has started: the page's EventSource reconnects by
		// itself, and the error is only worth a line in the log.
		d.Log.Debug("event stream ended", "workspace", s.Workspace.ID, "err", err)
	}
	return nil
}

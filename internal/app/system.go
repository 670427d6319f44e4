package app

import (
	"context"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/httpx"
)

// systemRoutes are the operator's endpoints: liveness, readiness and
// Prometheus metrics. They carry no personal data (promise P-29).
func (a *App) systemRoutes() []access.Route {
	return []access.Route{
		{Method: "GET", Pattern: "/healthz", Policy: access.Public(), Handler: a.healthz},
		{Method: "GET", Pattern: "/readyz", Policy: access.Public(), Handler: a.readyz},
		{Method: "GET", Pattern: "/metrics", Policy: access.Public(), Handler: a.metrics},
	}
}

// healthz says the process is alive; it touches nothing else.
func (a *App) healthz(w http.ResponseWriter, r *http.Request) error {
	return httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether this replica can serve: the database answers and is
// fully migrated.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.DB.Ping(ctx); err != nil {
		a.Log.Warn("readiness: database unreachable", "err", err)
		return &httpx.Error{Status: http.StatusServiceUnavailable, Code: "not_ready", Message: "The database is not reachable."}
	}
	cur, latest, err := a.DB.MigrationStatus(ctx)
	if err != nil || cur < latest {
		return &httpx.Error{Status: http.StatusServiceUnavailable, Code: "not_ready", Message: "The database is not fully migrated."}
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"status": "ready", "database": a.DB.Dialect, "schema_version": cur})
}

func (a *App) metrics(w http.ResponseWriter, r *http.Request) error {
	a.Metrics.handler.ServeHTTP(w, r)
	return nil
}

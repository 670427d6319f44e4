package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/web"
)

// Issue 6 (P-33) and issue 5 item 4: access is checked when a live stream
// opens, so a stream ends by itself after Deps.StreamLifetime and the
// browser must reconnect through the checks again: a member removed
// meanwhile is refused and hears nothing more of the workspace.
func TestEventStreamEndsAndIsCheckedAgain(t *testing.T) {
	a := apptest.New(t, dbtest.SQLite(t))
	dash := web.New(web.Deps{
		Accounts: a.Accounts, Workspaces: a.Workspaces, Auth: a.Auth, Guard: a.Guard,
		DB: a.DB, Now: a.Now, Log: a.Log, BaseURL: a.Config.BaseURL.String(),
		Events: a.Events, StreamLifetime: 50 * time.Millisecond,
	})
	mux := http.NewServeMux()
	a.API.Mount(mux)
	dash.Mount(mux)
	srv := httptest.NewServer(httpx.Chain(http.NewCrossOriginProtection().Handler(mux), httpx.RequestIDs, httpx.RealIP(nil)))
	t.Cleanup(srv.Close)
	s := &site{App: a, URL: srv.URL}
	owner, _ := s.signUp(t, "Pia")
	ws := owner.createWorkspace("Pia's Pots")
	agent, aaddr := s.signUp(t, "Dara")
	s.join(t, owner, ws, agent, aaddr, "agent")
	events := srv.URL + "/w/" + ws + "/events"

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	open := func(c *client) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, events, nil)
		res, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := open(agent)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET events = %d", res.StatusCode)
	}
	// The server ends the stream: reading reaches the end (within the
	// test's one-minute context, not a timed assertion).
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		t.Fatalf("the stream did not end by itself: %v", err)
	}
	res.Body.Close()

	owner.post("/w/"+ws+"/settings/team/members/"+s.userID(t, aaddr)+"/remove", url.Values{}).want(t, http.StatusSeeOther)
	res = open(agent)
	res.Body.Close()
	if res.StatusCode == http.StatusOK {
		t.Fatal("a removed member's stream reopened")
	}
}

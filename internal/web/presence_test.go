package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/web"
)

// fakePresence records Seen calls, and whether any came after the stream's
// handler had returned.
type fakePresence struct {
	mu       sync.Mutex
	ctxs     []context.Context
	who      map[string]bool
	calls    chan struct{}
	returned atomic.Bool
	late     atomic.Int64
}

func (f *fakePresence) Seen(ctx context.Context, workspaceID, userID string) error {
	if f.returned.Load() {
		f.late.Add(1)
	}
	f.mu.Lock()
	f.ctxs = append(f.ctxs, ctx)
	f.who[workspaceID+"/"+userID] = true
	f.mu.Unlock()
	select {
	case f.calls <- struct{}{}:
	default:
	}
	return nil
}

// Issue 5 item 3: the dashboard's live stream tells Presence that its
// member is at the dashboard when it opens and then on every beat while
// it stays open; the beat is tied to the request, so it has stopped by
// the time the handler returns (no goroutine outlives the stream).
func TestEventStreamBeatsPresence(t *testing.T) {
	a := apptest.New(t, dbtest.SQLite(t))
	fake := &fakePresence{who: map[string]bool{}, calls: make(chan struct{}, 1)}
	dash := web.New(web.Deps{
		Accounts: a.Accounts, Workspaces: a.Workspaces, Auth: a.Auth, Guard: a.Guard,
		DB: a.DB, Now: a.Now, Log: a.Log, BaseURL: a.Config.BaseURL.String(),
		Events: a.Events, Presence: fake, PresenceEvery: time.Millisecond,
	})
	mux := http.NewServeMux()
	a.API.Mount(mux)
	dash.Mount(mux)
	handlerDone := make(chan struct{}, 1)
	h := httpx.Chain(http.NewCrossOriginProtection().Handler(mux), httpx.RequestIDs, httpx.RealIP(nil))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if strings.HasSuffix(r.URL.Path, "/events") {
			fake.returned.Store(true)
			handlerDone <- struct{}{}
		}
	}))
	t.Cleanup(srv.Close)
	s := &site{App: a, URL: srv.URL}
	owner, addr := s.signUp(t, "Pia")
	ws := owner.createWorkspace("Pia's Pots")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/w/"+ws+"/events", nil)
	res, err := owner.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET events = %d", res.StatusCode)
	}
	// The first call, then at least two beats.
	for range 3 {
		select {
		case <-fake.calls:
		case <-time.After(60 * time.Second):
			t.Fatal("presence was not told the member is here")
		}
	}
	cancel()
	select {
	case <-handlerDone:
	case <-time.After(60 * time.Second):
		t.Fatal("the stream's handler did not return after the client left")
	}
	fake.mu.Lock()
	ctxs, who := fake.ctxs, fake.who
	fake.mu.Unlock()
	if !who[ws+"/"+s.userID(t, addr)] || len(who) != 1 {
		t.Errorf("Seen for %v, want only the stream's member in its workspace", who)
	}
	// Every call was made under the request's context, which has ended.
	for i, c := range ctxs {
		if c.Err() == nil {
			t.Fatalf("Seen call %d got a context that outlived the request", i)
		}
	}
	// A beat still running would call again within a few of its periods.
	time.Sleep(20 * time.Millisecond)
	if n := fake.late.Load(); n != 0 {
		t.Errorf("%d Seen calls after the stream's handler returned", n)
	}
}

// With the real team store, opening the live stream is what makes an
// agent online for round-robin assignment.
func TestEventStreamMakesAgentOnline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, addr := s.signUp(t, "Quy")
		ws := owner.createWorkspace("Quy's Quilts")
		id := s.userID(t, addr)
		if online(t, s, ws, id) {
			t.Fatal("online before ever opening the dashboard")
		}
		owner.stream("/w/" + ws + "/events")
		deadline := time.Now().Add(60 * time.Second)
		for !online(t, s, ws, id) {
			if time.Now().After(deadline) {
				t.Fatal("still not online with the live stream open")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

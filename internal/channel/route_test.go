package channel_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

// Route answers as ByAccount does, and every change this process makes to
// a channel is seen by the next event at once: a disconnected Page routes
// nowhere, a reconnected one routes again, new settings are used.
func TestRouteSeesOwnChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, newWS := newStore(t, d)
		ws := newWS()
		ctx := context.Background()
		route := func() (channel.Channel, error) { return s.Route(ctx, d.W, channel.Messenger, "3003") }
		if _, err := route(); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("route of an account nobody connected: %v, want ErrNotFound", err)
		}
		c := fixture.Messenger(t, s, ws, "3003", "token")
		if got, err := route(); err != nil || got.ID != c.ID {
			t.Fatalf("route after connecting = %+v, %v", got, err)
		}
		if _, err := s.Configure(ctx, audit.Actor{UserID: "u1"}, ws, c.ID, "Back soon!", channel.Settings{}); err != nil {
			t.Fatal(err)
		}
		if got, err := route(); err != nil || got.AutoReply != "Back soon!" {
			t.Errorf("route after new settings = %q, %v", got.AutoReply, err)
		}
		if err := s.MarkNeedsReconnect(ctx, ws, c.ID, "Error validating access token"); err != nil {
			t.Fatal(err)
		}
		if got, err := route(); err != nil || got.TokenState != channel.TokenNeedsReconnect {
			t.Errorf("route after the token was refused = %+v, %v", got.TokenState, err)
		}
		if _, err := s.Disconnect(ctx, audit.Actor{UserID: "u1"}, ws, c.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := route(); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("route after disconnecting = %+v, %v; want ErrNotFound", got, err)
		}
		again := fixture.Messenger(t, s, ws, "3003", "token-2")
		if got, err := route(); err != nil || got.ID != again.ID {
			t.Errorf("route after reconnecting = %+v, %v", got, err)
		}
	})
}

// Route remembers its answer (the point of it) for a moment only: a change
// another replica made, which this process is not told of, is seen once
// the answer is older than its lifetime.
func TestRouteForgetsOtherReplicasChangesInAMoment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, newWS := newStore(t, d)
		ctx := context.Background()
		c := fixture.Messenger(t, s, newWS(), "4004", "token")
		if _, err := s.Route(ctx, d.W, channel.Messenger, "4004"); err != nil {
			t.Fatal(err)
		}
		// Another replica disconnects the Page.
		if _, err := d.W.NewRaw(`UPDATE channels SET status = 'disconnected', token = NULL WHERE id = ?`, c.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Route(ctx, d.W, channel.Messenger, "4004"); err != nil || got.ID != c.ID {
			t.Errorf("route just after = %+v, %v; want the remembered channel", got, err)
		}
		s.AgeRoutes(2 * time.Second)
		if got, err := s.Route(ctx, d.W, channel.Messenger, "4004"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("route once the answer is old = %+v, %v; want ErrNotFound", got, err)
		}
	})
}

// A lookup that fails (here: its context is cancelled) is passed on and
// not remembered: the next event routes as if it had never happened,
// rather than failing for a second or routing nowhere.
func TestRouteForgetsFailedLookups(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, newWS := newStore(t, d)
		c := fixture.Messenger(t, s, newWS(), "5005", "token")
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := s.Route(cancelled, d.W, channel.Messenger, "5005"); err == nil || errors.Is(err, db.ErrNotFound) {
			t.Fatalf("route with a cancelled context: %v, want the lookup's error", err)
		}
		if got, err := s.Route(context.Background(), d.W, channel.Messenger, "5005"); err != nil || got.ID != c.ID {
			t.Errorf("route after a failed lookup = %+v, %v; want the channel", got, err)
		}
	})
}

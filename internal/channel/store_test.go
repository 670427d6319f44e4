package channel_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

func newStore(t *testing.T, d *db.DB) (*channel.Store, func() string) {
	now := func() time.Time { return fixture.Epoch }
	kr, _ := fixture.Keyring(t, d, now)
	return channel.NewStore(d, kr, now), func() string { return fixture.Workspace(t, d, kr) }
}

const canary = "EAAG-page-token-CANARY-1f2e3d"

// Promise P-10: a connected page keeps its ID and name, and its token only
// sealed: no dump of the database shows it, and it opens for the channel
// that owns it.
func TestConnectSealsTheToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, newWS := newStore(t, d)
		ws := newWS()
		ctx := context.Background()
		c, err := s.Connect(ctx, audit.Actor{UserID: "u1"}, channel.Connection{WorkspaceID: ws, Type: channel.Messenger, ExternalID: "1001", Name: "Sok's Shop", Token: canary})
		if err != nil {
			t.Fatal(err)
		}
		if c.ExternalID != "1001" || c.Name != "Sok's Shop" || c.Status != channel.Active || c.TokenState != channel.TokenOK || c.ConnectedBy != "u1" {
			t.Errorf("connected channel = %+v", c)
		}
		if dump := dbtest.DumpText(t, d); strings.Contains(dump, canary) || strings.Contains(dump, "CANARY") {
			t.Error("the page token is readable in a database dump")
		}
		tok, err := s.Token(ctx, c)
		if err != nil || tok != canary {
			t.Fatalf("Token = %q, %v", tok, err)
		}
		// The sealed token is bound to its row: another channel's identity
		// cannot open it.
		forged := c
		forged.ID = "another-row"
		if _, err := s.Token(ctx, forged); err == nil {
			t.Error("a token opened for a row that does not own it")
		}
		got, err := s.ByAccount(ctx, d.R, channel.Messenger, "1001")
		if err != nil || got.ID != c.ID {
			t.Errorf("ByAccount = %+v, %v", got, err)
		}
		entries, err := audit.List(ctx, d, audit.Filter{WorkspaceID: ws})
		if err != nil || len(entries) != 1 || entries[0].Action != channel.ActionConnect {
			t.Errorf("audit = %+v, %v", entries, err)
		}
	})
}

func TestReconnectAndOwnership(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, newWS := newStore(t, d)
		ws, other := newWS(), newWS()
		ctx := context.Background()
		c := fixture.Messenger(t, s, ws, "2002", "old-token")
		if err := s.MarkNeedsReconnect(ctx, ws, c.ID, "Error validating access token"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Token(ctx, c); !errors.Is(err, channel.ErrNoToken) {
			t.Errorf("token of a channel that needs reconnecting: %v, want ErrNoToken", err)
		}
		// Another workspace cannot take a page that is connected here, and
		// nothing changes when it tries.
		if _, err := s.Connect(ctx, audit.Actor{}, channel.Connection{WorkspaceID: other, Type: channel.Messenger, ExternalID: "2002", Name: "x", Token: "t"}); !errors.Is(err, channel.ErrTakenElsewhere) {
			t.Errorf("connecting a page taken elsewhere: %v", err)
		}
		if list, _ := s.List(ctx, other); len(list) != 0 {
			t.Errorf("the other workspace got %d channels", len(list))
		}
		// Reconnecting here replaces the token and clears the error.
		again := fixture.Messenger(t, s, ws, "2002", "new-token")
		if again.ID != c.ID || again.TokenState != channel.TokenOK || again.LastError != "" {
			t.Errorf("reconnected = %+v", again)
		}
		if tok, _ := s.Token(ctx, again); tok != "new-token" {
			t.Errorf("token after reconnect = %q", tok)
		}
		// Tenancy: the other workspace sees nothing of it.
		if _, err := s.Get(ctx, other, c.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Get from another workspace: %v", err)
		}
		if err := s.MarkNeedsReconnect(ctx, other, c.ID, "x"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("MarkNeedsReconnect from another workspace: %v", err)
		}
	})
}

func TestDisconnectDestroysTheToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, newWS := newStore(t, d)
		ws, other := newWS(), newWS()
		ctx := context.Background()
		c := fixture.Messenger(t, s, ws, "3003", canary)
		if _, err := s.Disconnect(ctx, audit.Actor{}, other, c.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("disconnect from another workspace: %v", err)
		}
		got, err := s.Disconnect(ctx, audit.Actor{UserID: "u"}, ws, c.ID)
		if err != nil || got.Status != channel.Disconnected || got.DisconnectedAt.IsZero() {
			t.Fatalf("Disconnect = %+v, %v", got, err)
		}
		var n int
		if err := d.R.NewRaw(`SELECT COUNT(*) FROM channels WHERE token IS NOT NULL`).Scan(ctx, &n); err != nil || n != 0 {
			t.Errorf("sealed tokens left after disconnect: %d, %v", n, err)
		}
		if _, err := s.Token(ctx, got); !errors.Is(err, channel.ErrNoToken) {
			t.Errorf("token after disconnect: %v", err)
		}
		if _, err := s.ByAccount(ctx, d.R, channel.Messenger, "3003"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("a disconnected page still receives events: %v", err)
		}
		// The page is free again, for any workspace.
		if _, err := s.Connect(ctx, audit.Actor{}, channel.Connection{WorkspaceID: other, Type: channel.Messenger, ExternalID: "3003", Name: "p", Token: "t"}); err != nil {
			t.Errorf("connecting a disconnected page elsewhere: %v", err)
		}
		if _, err := s.Disconnect(ctx, audit.Actor{}, ws, c.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("disconnecting twice: %v", err)
		}
	})
}

func TestConfigureTouchAndUnknown(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, newWS := newStore(t, d)
		ws := newWS()
		ctx := context.Background()
		c := fixture.Messenger(t, s, ws, "4004", "t")
		st := channel.Settings{GetStarted: "GET_STARTED", Greeting: "Hi {{user_first_name}}", Menu: []channel.MenuItem{{Title: "Prices", Payload: "PRICES"}}}
		got, err := s.Configure(ctx, audit.Actor{}, ws, c.ID, "Thanks, we will answer soon.", st)
		if err != nil || got.AutoReply != "Thanks, we will answer soon." || got.Settings.Menu[0].Payload != "PRICES" || got.Settings.Greeting != st.Greeting {
			t.Fatalf("Configure = %+v, %v", got, err)
		}
		at := fixture.Epoch.Add(time.Hour)
		if err := s.Touch(ctx, d.W, at, c.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.Touch(ctx, d.W, at.Add(-time.Minute), c.ID); err != nil { // older: ignored
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, ws, c.ID); !got.LastEventAt.Equal(at) {
			t.Errorf("last event at %v, want %v", got.LastEventAt, at)
		}
		// Prepared, inside a transaction (as webhook processing runs
		// them): the same channel as bun reads, and Touch still only
		// moves forward, for a list of channels too.
		if err := s.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		other := fixture.Messenger(t, s, ws, "4005", "t")
		later := at.Add(time.Hour)
		err = d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			byAcct, err := s.ByAccount(ctx, tx, channel.Messenger, "4004")
			if err != nil {
				return err
			}
			want, err := s.Get(ctx, ws, c.ID)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(want, byAcct); diff != "" {
				t.Errorf("prepared ByAccount differs from Get (-want +got):\n%s", diff)
			}
			inTx, err := s.GetTx(ctx, tx, ws, c.ID)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(want, inTx); diff != "" {
				t.Errorf("GetTx differs from Get (-want +got):\n%s", diff)
			}
			if _, err := s.GetTx(ctx, tx, "another-workspace", c.ID); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("GetTx under another workspace: %v, want not found", err)
			}
			return s.Touch(ctx, tx, later, c.ID, other.ID, c.ID)
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{c.ID, other.ID} {
			if got, _ := s.Get(ctx, ws, id); !got.LastEventAt.Equal(later) {
				t.Errorf("channel %s last event at %v, want %v", id, got.LastEventAt, later)
			}
		}
		for range 2 {
			if err := s.RecordUnknown(ctx, d.W, "page", "999", 3, at); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := d.R.NewRaw(`SELECT events FROM unknown_accounts WHERE object = 'page' AND external_id = '999'`).Scan(ctx, &n); err != nil || n != 6 {
			t.Errorf("unknown page events = %d, %v", n, err)
		}
	})
}

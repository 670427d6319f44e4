package connect_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/channel/connect"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/meta"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fakeclock"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock = fakeclock.Clock

// env is a Service over a fresh database and a fake Graph.
type env struct {
	d        *db.DB
	kr       *keyring.Keyring
	clock    *clock
	g        *fakeGraph
	graph    *meta.Client
	channels *channel.Store
	svc      *connect.Service
	master   *keyring.Master
}

var actor = audit.Actor{UserID: "user-1", RequestID: "req-1"}

func setup(t *testing.T, d *db.DB) *env {
	t.Helper()
	m, err := keyring.NewMaster(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{d: d, clock: fakeclock.New(t0), g: newFakeGraph(t), master: m}
	e.kr = keyring.New(d, m, keyring.Options{Now: e.clock.Now})
	e.graph = meta.New(meta.Options{GraphURL: e.g.srv.URL, AppID: appID, AppSecret: appSecret})
	e.channels = channel.NewStore(d, e.kr, e.clock.Now)
	e.svc = e.service(m.Derive("channel-login-state"))
	return e
}

func (e *env) service(stateKey []byte) *connect.Service {
	return connect.New(e.d, e.kr, e.graph, e.channels, connect.Options{
		Now: e.clock.Now, StateKey: stateKey, RedirectURL: redirectURL,
	})
}

// workspace creates a workspace with its key.
func (e *env) workspace(t *testing.T) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	err := e.d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`INSERT INTO workspaces (id, name, plan, created_at, updated_at) VALUES (?, 'Test', 'trial', ?, ?)`,
			id, t0, t0).Exec(ctx); err != nil {
			return err
		}
		return e.kr.CreateWorkspaceKey(ctx, tx, id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// connected connects a Page by token or fails the test.
func (e *env) connected(t *testing.T, ws, pageID string) channel.Channel {
	t.Helper()
	ch, err := e.svc.ConnectToken(context.Background(), actor, ws, pageID, e.g.token(pageID))
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// notInDump fails when any secret is in the database in clear (promise
// P-10, security L-5).
func notInDump(t *testing.T, d *db.DB, secrets ...string) {
	t.Helper()
	dump := dbtest.DumpText(t, d)
	for _, s := range secrets {
		if strings.Contains(dump, s) {
			t.Errorf("the database holds %q in clear", s)
		}
	}
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.R.NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

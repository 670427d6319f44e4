package connect_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/channel/connect"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/meta"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/validate"
)

// Promise P-10: a connected Page's token is checked with Meta, the app is
// subscribed, and the token is stored only sealed.
func TestConnectToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		token := e.g.token("1001")
		ch, err := e.svc.ConnectToken(ctx, actor, ws, "1001", token)
		if err != nil {
			t.Fatal(err)
		}
		if ch.WorkspaceID != ws || ch.Type != channel.Messenger || ch.ExternalID != "1001" || ch.Name != "Cafe Lotus" ||
			ch.Status != channel.Active || ch.TokenState != channel.TokenOK || ch.ConnectedBy != actor.UserID {
			t.Errorf("channel %+v", ch)
		}
		fields, ok := e.g.subscription("1001")
		if !ok {
			t.Fatal("the app was not subscribed to the Page")
		}
		if diff := cmp.Diff(connect.DefaultSubscribedFields(), fields); diff != "" {
			t.Errorf("subscribed fields (-want +got):\n%s", diff)
		}
		got, err := e.channels.Token(ctx, ch)
		if err != nil || got != token {
			t.Fatalf("stored token %q, %v", got, err)
		}
		notInDump(t, d, token)
	})
}

func TestConnectTokenRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		for _, tc := range []struct {
			name, page, token, code string
		}{
			{"another page's token", "1001", e.g.token("1002"), connect.CodeTokenMismatch},
			{"a user token", "1001", "EAAG-LONG-user-secret", connect.CodeTokenMismatch},
			{"a token Meta rejects", "1001", "EAAG-unknown-secret", connect.CodeTokenInvalid},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := len(e.g.callsTo("", "/1001/subscribed_apps"))
				_, err := e.svc.ConnectToken(ctx, actor, ws, tc.page, tc.token)
				var ce *connect.ConnectError
				if !errors.As(err, &ce) || ce.Code != tc.code {
					t.Fatalf("got %v; want ConnectError %s", err, tc.code)
				}
				if strings.Contains(ce.Error(), tc.token) {
					t.Errorf("the error quotes the token: %v", ce)
				}
				if n := len(e.g.callsTo("", "/1001/subscribed_apps")); n != before {
					t.Error("the app was subscribed with a refused token")
				}
				notInDump(t, d, tc.token)
			})
		}
		t.Run("meta refuses the subscription", func(t *testing.T) {
			e.g.setRefuse("/1003/subscribed_apps", 200)
			_, err := e.svc.ConnectToken(ctx, actor, ws, "1003", e.g.token("1003"))
			var ce *connect.ConnectError
			if !errors.As(err, &ce) || ce.Code != connect.CodeSubscribeFailed {
				t.Fatalf("got %v; want subscribe_failed", err)
			}
			notInDump(t, d, e.g.token("1003"))
		})
		t.Run("meta unreachable", func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			closed := "http://" + l.Addr().String()
			l.Close()
			down := connect.New(d, e.kr, meta.New(meta.Options{GraphURL: closed, AppSecret: appSecret}), e.channels, connect.Options{Now: e.clock.Now})
			_, err = down.ConnectToken(ctx, actor, ws, "1002", e.g.token("1002"))
			var ce *connect.ConnectError
			if !errors.As(err, &ce) || ce.Code != connect.CodeGraphUnavailable {
				t.Fatalf("got %v; want graph_unavailable", err)
			}
		})
		if cs, err := e.channels.List(ctx, ws); err != nil || len(cs) != 0 {
			t.Errorf("refusals stored channels: %+v, %v", cs, err)
		}
	})
}

func TestConnectTokenValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		good := e.g.token("1001")
		for _, tc := range []struct{ name, page, token, field string }{
			{"empty page id", "", good, "page_id"},
			{"letters", "abc", good, "page_id"},
			{"path", "1001/subscribed_apps", good, "page_id"},
			{"33 digits", strings.Repeat("1", 33), good, "page_id"},
			{"empty token", "1001", "", "token"},
			{"token with a space", "1001", "EAAG abc", "token"},
			{"token with a newline", "1001", "EAAG\nabc", "token"},
			{"token not ascii", "1001", "EAAGé", "token"},
			{"token too long", "1001", strings.Repeat("a", 1025), "token"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.svc.ConnectToken(context.Background(), actor, ws, tc.page, tc.token)
				v, ok := validate.As(err)
				if !ok || v.Field != tc.field {
					t.Fatalf("got %v; want a validation error on %s", err, tc.field)
				}
			})
		}
		if n := e.g.callCount(); n != 0 {
			t.Errorf("invalid input reached Graph (%d calls)", n)
		}
		// The limits themselves are accepted.
		if _, err := e.svc.ConnectToken(context.Background(), actor, ws, strings.Repeat("9", 32), strings.Repeat("a", 1024)); validateErr(err) {
			t.Errorf("limits refused: %v", err)
		}
	})
}

func validateErr(err error) bool { _, ok := validate.As(err); return ok }

// Reconnecting a Page replaces its token and clears NeedsReconnect.
func TestReconnect(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		first := e.connected(t, ws, "1001")
		old := e.g.token("1001")
		if err := e.channels.MarkNeedsReconnect(ctx, ws, first.ID, "Invalid OAuth access token."); err != nil {
			t.Fatal(err)
		}
		e.g.rotate("1001", "EAAG-PAGE-1001-new-secret")
		if _, err := e.svc.ConnectToken(ctx, actor, ws, "1001", old); err == nil {
			t.Fatal("the dead token was accepted")
		}
		again, err := e.svc.ConnectToken(ctx, actor, ws, "1001", "EAAG-PAGE-1001-new-secret")
		if err != nil {
			t.Fatal(err)
		}
		if again.ID != first.ID || again.TokenState != channel.TokenOK || again.LastError != "" {
			t.Errorf("reconnected channel %+v; want the same one, token ok", again)
		}
		tok, err := e.channels.Token(ctx, again)
		if err != nil || tok != "EAAG-PAGE-1001-new-secret" {
			t.Errorf("token %q, %v", tok, err)
		}
		if n := count(t, d, `SELECT count(*) FROM channels WHERE external_id = '1001'`); n != 1 {
			t.Errorf("%d channel rows", n)
		}
		notInDump(t, d, old, "EAAG-PAGE-1001-new-secret")
	})
}

// A Page active in another workspace is refused before Meta is asked for
// anything.
func TestTakenElsewhere(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws1, ws2 := e.workspace(t), e.workspace(t)
		e.connected(t, ws1, "1001")
		calls := e.g.callCount()
		_, err := e.svc.ConnectToken(ctx, actor, ws2, "1001", e.g.token("1001"))
		if !errors.Is(err, channel.ErrTakenElsewhere) {
			t.Fatalf("got %v; want ErrTakenElsewhere", err)
		}
		if e.g.callCount() != calls {
			t.Error("Graph was called for a Page taken elsewhere")
		}
		if cs, _ := e.channels.List(ctx, ws2); len(cs) != 0 {
			t.Errorf("workspace 2 got %+v", cs)
		}
		// Once disconnected there, it can be connected here.
		ch, _ := e.channels.ByAccount(ctx, d.R, channel.Messenger, "1001")
		if _, err := e.svc.Disconnect(ctx, actor, ws1, ch.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ConnectToken(ctx, actor, ws2, "1001", e.g.token("1001")); err != nil {
			t.Fatalf("after disconnecting elsewhere: %v", err)
		}
	})
}

func TestDisconnect(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, other := e.workspace(t), e.workspace(t)

		t.Run("unsubscribes and destroys the token", func(t *testing.T) {
			ch := e.connected(t, ws, "1001")
			token := e.g.token("1001")
			if _, err := e.svc.Disconnect(ctx, actor, other, ch.ID); !errors.Is(err, db.ErrNotFound) {
				t.Fatalf("another workspace's disconnect: %v; want ErrNotFound", err)
			}
			out, err := e.svc.Disconnect(ctx, actor, ws, ch.ID)
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != channel.Disconnected {
				t.Errorf("status %s", out.Status)
			}
			dels := e.g.callsTo("DELETE", "/1001/subscribed_apps")
			if len(dels) != 1 || dels[0].Token != token {
				t.Errorf("unsubscribe calls %+v; want one with the Page token", dels)
			}
			if _, ok := e.g.subscription("1001"); ok {
				t.Error("the Page is still subscribed")
			}
			if _, err := e.channels.Token(ctx, out); !errors.Is(err, channel.ErrNoToken) && !errors.Is(err, db.ErrNotFound) {
				t.Errorf("token after disconnect: %v", err)
			}
			if n := count(t, d, `SELECT count(*) FROM channels WHERE id = ? AND token IS NOT NULL`, ch.ID); n != 0 {
				t.Error("the sealed token is still stored")
			}
			notInDump(t, d, token)
			if _, err := e.svc.Disconnect(ctx, actor, ws, ch.ID); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("second disconnect: %v; want ErrNotFound", err)
			}
		})
		t.Run("a dead token does not stop it", func(t *testing.T) {
			ch := e.connected(t, ws, "1002")
			e.g.rotate("1002", "EAAG-PAGE-1002-rotated")
			out, err := e.svc.Disconnect(ctx, actor, ws, ch.ID)
			if err != nil || out.Status != channel.Disconnected {
				t.Fatalf("got %+v, %v", out, err)
			}
		})
		t.Run("needs reconnect: no token to unsubscribe with", func(t *testing.T) {
			ch := e.connected(t, ws, "1003")
			if err := e.channels.MarkNeedsReconnect(ctx, ws, ch.ID, "dead"); err != nil {
				t.Fatal(err)
			}
			before := len(e.g.callsTo("DELETE", "/1003/subscribed_apps"))
			out, err := e.svc.Disconnect(ctx, actor, ws, ch.ID)
			if err != nil || out.Status != channel.Disconnected {
				t.Fatalf("got %+v, %v", out, err)
			}
			if len(e.g.callsTo("DELETE", "/1003/subscribed_apps")) != before {
				t.Error("unsubscribed with a token marked dead")
			}
		})
	})
}

package connect_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/channel/connect"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// beginLogin starts a login and returns its state.
func (e *env) beginLogin(t *testing.T, ws, user string) string {
	t.Helper()
	dialog, err := e.svc.BeginLogin(context.Background(), ws, user)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dialog)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("state")
}

// Promise P-10 through Facebook Login: the user token is sealed, the
// chosen Pages are connected with their own tokens, and the login is
// forgotten.
func TestLoginFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, other := e.workspace(t), e.workspace(t)
		e.connected(t, ws, "1002")    // already here
		e.connected(t, other, "1003") // taken elsewhere

		dialog, err := e.svc.BeginLogin(ctx, ws, "user-1")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(dialog)
		q := u.Query()
		if q.Get("client_id") != appID || q.Get("redirect_uri") != redirectURL || q.Get("response_type") != "code" ||
			q.Get("scope") != strings.Join(connect.DefaultScopes(), ",") || q.Get("state") == "" {
			t.Errorf("dialog URL %s", dialog)
		}

		gotWS, loginID, err := e.svc.FinishLogin(ctx, "user-1", q.Get("state"), "code-1")
		if err != nil {
			t.Fatal(err)
		}
		if gotWS != ws || loginID == "" {
			t.Fatalf("finish: %q, %q", gotWS, loginID)
		}
		notInDump(t, d, "EAAG-SHORT-user-secret", "EAAG-LONG-user-secret")

		pages, err := e.svc.Pages(ctx, ws, "user-1", loginID)
		if err != nil {
			t.Fatal(err)
		}
		want := []connect.LoginPage{
			{ID: "1001", Name: "Cafe Lotus"},
			{ID: "1002", Name: "Bakery", Connected: true},
			{ID: "1003", Name: "Books", Elsewhere: true},
		}
		if diff := cmp.Diff(want, pages); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
		if _, err := e.svc.ConnectPages(ctx, actor, ws, "user-1", loginID, []string{"1001", "1003"}); !errors.Is(err, channel.ErrTakenElsewhere) {
			t.Fatalf("connecting a Page taken elsewhere: %v", err)
		}
		if _, ok := e.g.subscription("1001"); ok {
			t.Error("a refused batch connected some of its Pages")
		}
		var ce *connect.ConnectError
		if _, err := e.svc.ConnectPages(ctx, actor, ws, "user-1", loginID, []string{"9999"}); !errors.As(err, &ce) || ce.Code != connect.CodePageUnavailable {
			t.Fatalf("connecting a Page the user does not manage: %v", err)
		}

		cs, err := e.svc.ConnectPages(ctx, actor, ws, "user-1", loginID, []string{"1001", "1002", "1001"})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 2 || cs[0].ExternalID != "1001" || cs[1].ExternalID != "1002" {
			t.Fatalf("connected %+v", cs)
		}
		for _, ch := range cs {
			tok, err := e.channels.Token(ctx, ch)
			if err != nil || tok != e.g.token(ch.ExternalID) {
				t.Errorf("%s: token %q, %v", ch.ExternalID, tok, err)
			}
			if _, ok := e.g.subscription(ch.ExternalID); !ok {
				t.Errorf("%s not subscribed", ch.ExternalID)
			}
		}
		if n := count(t, d, `SELECT count(*) FROM channel_logins`); n != 0 {
			t.Errorf("%d logins left", n)
		}
		if _, err := e.svc.Pages(ctx, ws, "user-1", loginID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("pages of a used login: %v", err)
		}
		notInDump(t, d, "EAAG-LONG-user-secret", e.g.token("1001"), e.g.token("1002"))
	})
}

func TestLoginRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, other := e.workspace(t), e.workspace(t)
		exchanges := func() int { return len(e.g.callsTo("", "/oauth/access_token")) }
		wantCode := func(t *testing.T, err error, code string) {
			t.Helper()
			var ce *connect.ConnectError
			if !errors.As(err, &ce) || ce.Code != code {
				t.Fatalf("got %v; want ConnectError %s", err, code)
			}
		}

		t.Run("tampered, forged or garbled state", func(t *testing.T) {
			state := e.beginLogin(t, ws, "user-1")
			payload, sig, _ := strings.Cut(state, ".")
			raw, _ := base64.RawURLEncoding.DecodeString(payload)
			// The same login, moved to another workspace, with the old MAC.
			moved := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), ws, other, 1))) + "." + sig
			flip := func(s string, i int) string {
				b := []byte(s)
				if b[i] == 'A' {
					b[i] = 'B'
				} else {
					b[i] = 'A'
				}
				return string(b)
			}
			forged := e.service([]byte("another key")).BeginLogin
			dialog, err := forged(ctx, ws, "user-1")
			if err != nil {
				t.Fatal(err)
			}
			fu, _ := url.Parse(dialog)
			before := exchanges()
			for name, s := range map[string]string{
				"payload byte changed": flip(state, 3),
				"mac byte changed":     flip(state, len(state)-3),
				"moved workspace":      moved,
				"other key":            fu.Query().Get("state"),
				"empty":                "",
				"no dot":               "abc",
				"dot only":             ".",
				"not base64":           "!!!.???",
				"mac only":             "." + sig,
				"long":                 strings.Repeat("a", 5000) + "." + sig,
			} {
				t.Run(name, func(t *testing.T) {
					_, _, err := e.svc.FinishLogin(ctx, "user-1", s, "code-1")
					wantCode(t, err, connect.CodeLoginInvalid)
				})
			}
			if exchanges() != before {
				t.Error("a bad state reached Meta")
			}
		})
		t.Run("expired", func(t *testing.T) {
			state := e.beginLogin(t, ws, "user-1")
			e.clock.Advance(connect.LoginTTL)
			before := exchanges()
			_, _, err := e.svc.FinishLogin(ctx, "user-1", state, "code-1")
			wantCode(t, err, connect.CodeLoginExpired)
			if exchanges() != before {
				t.Error("an expired login reached Meta")
			}
		})
		t.Run("another user", func(t *testing.T) {
			state := e.beginLogin(t, ws, "user-1")
			before := exchanges()
			if _, _, err := e.svc.FinishLogin(ctx, "user-2", state, "code-1"); !errors.Is(err, db.ErrNotFound) {
				t.Fatalf("got %v; want ErrNotFound", err)
			}
			if exchanges() != before {
				t.Error("another user's callback reached Meta")
			}
		})
		t.Run("meta refuses the code", func(t *testing.T) {
			state := e.beginLogin(t, ws, "user-1")
			_, _, err := e.svc.FinishLogin(ctx, "user-1", state, "bad-code")
			wantCode(t, err, connect.CodeLoginFailed)
			_, _, err = e.svc.FinishLogin(ctx, "user-1", state, "")
			wantCode(t, err, connect.CodeLoginInvalid)
		})
		t.Run("finished login: owner only, once, while fresh", func(t *testing.T) {
			state := e.beginLogin(t, ws, "user-1")
			_, loginID, err := e.svc.FinishLogin(ctx, "user-1", state, "code-1")
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = e.svc.FinishLogin(ctx, "user-1", state, "code-1")
			wantCode(t, err, connect.CodeLoginInvalid)
			for name, call := range map[string]func() error{
				"other workspace's pages": func() error { _, err := e.svc.Pages(ctx, other, "user-1", loginID); return err },
				"other user's pages":      func() error { _, err := e.svc.Pages(ctx, ws, "user-2", loginID); return err },
				"other user connects": func() error {
					_, err := e.svc.ConnectPages(ctx, actor, ws, "user-2", loginID, []string{"1001"})
					return err
				},
				"other workspace connects": func() error {
					_, err := e.svc.ConnectPages(ctx, actor, other, "user-1", loginID, []string{"1001"})
					return err
				},
			} {
				if err := call(); !errors.Is(err, db.ErrNotFound) {
					t.Errorf("%s: %v; want ErrNotFound", name, err)
				}
			}
			if _, err := e.svc.Pages(ctx, ws, "user-1", loginID); err != nil {
				t.Fatalf("owner: %v", err)
			}
			e.clock.Advance(connect.LoginTTL)
			if _, err := e.svc.Pages(ctx, ws, "user-1", loginID); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("expired login's pages: %v", err)
			}
		})
		t.Run("unfinished login has no pages", func(t *testing.T) {
			e.beginLogin(t, ws, "user-1")
			var id string
			if err := d.R.NewRaw(`SELECT id FROM channel_logins WHERE user_token IS NULL ORDER BY created_at DESC LIMIT 1`).Scan(ctx, &id); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Pages(ctx, ws, "user-1", id); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("got %v; want ErrNotFound", err)
			}
		})
		t.Run("login disabled", func(t *testing.T) {
			_, err := e.service(nil).BeginLogin(ctx, ws, "user-1")
			wantCode(t, err, connect.CodeLoginDisabled)
		})
	})
}

func TestPurgeLogins(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		for range 3 {
			e.beginLogin(t, ws, "user-1")
		}
		e.clock.Advance(10 * time.Minute)
		e.beginLogin(t, ws, "user-2")
		e.clock.Advance(6 * time.Minute)
		n, err := e.svc.PurgeLogins(ctx)
		if err != nil || n != 3 {
			t.Fatalf("purged %d, %v; want 3", n, err)
		}
		if left := count(t, d, `SELECT count(*) FROM channel_logins WHERE user_id = 'user-2'`); left != 1 {
			t.Errorf("%d fresh logins left; want 1", left)
		}
		if n, _ := e.svc.PurgeLogins(ctx); n != 0 {
			t.Errorf("second purge removed %d", n)
		}
	})
}

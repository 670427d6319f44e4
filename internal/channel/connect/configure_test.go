package connect_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/channel/connect"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/validate"
)

var fullSettings = channel.Settings{
	GetStarted: "GET_STARTED",
	Greeting:   "Hi {{user_first_name}}!",
	Menu: []channel.MenuItem{
		{Title: "Track my order", Payload: "TRACK"},
		{Title: "Shop", URL: "https://shop.example/"},
	},
	IceBreakers: []channel.IceBreaker{{Question: "Where are you?", Payload: "WHERE"}},
}

func decode(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return v
}

func jsonValue(s string) any {
	var v any
	json.Unmarshal([]byte(s), &v)
	return v
}

func TestConfigure(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		ch := e.connected(t, ws, "1001")

		out, err := e.svc.Configure(ctx, actor, ws, ch.ID, "  Thanks, we'll answer soon.  ", fullSettings)
		if err != nil {
			t.Fatal(err)
		}
		if out.AutoReply != "Thanks, we'll answer soon." {
			t.Errorf("auto reply %q", out.AutoReply)
		}
		if diff := cmp.Diff(fullSettings, out.Settings); diff != "" {
			t.Errorf("stored settings (-want +got):\n%s", diff)
		}
		prof := e.g.profile("1001")
		want := map[string]any{
			"get_started": jsonValue(`{"payload":"GET_STARTED"}`),
			"greeting":    jsonValue(`[{"locale":"default","text":"Hi {{user_first_name}}!"}]`),
			"persistent_menu": jsonValue(`[{"locale":"default","composer_input_disabled":false,"call_to_actions":[
				{"type":"postback","title":"Track my order","payload":"TRACK"},
				{"type":"web_url","title":"Shop","url":"https://shop.example/"}]}]`),
			"ice_breakers": jsonValue(`[{"call_to_actions":[{"question":"Where are you?","payload":"WHERE"}],"locale":"default"}]`),
		}
		got := map[string]any{}
		for k, v := range prof {
			got[k] = decode(t, v)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("profile at Meta (-want +got):\n%s", diff)
		}

		// Removing settings deletes them at Meta.
		fewer := channel.Settings{GetStarted: "GET_STARTED", Menu: fullSettings.Menu}
		if _, err := e.svc.Configure(ctx, actor, ws, ch.ID, "", fewer); err != nil {
			t.Fatal(err)
		}
		dels := e.g.callsTo("DELETE", "/me/messenger_profile")
		if len(dels) != 1 {
			t.Fatalf("%d deletes; want 1", len(dels))
		}
		var body struct{ Fields []string }
		json.Unmarshal([]byte(dels[0].Body), &body)
		if diff := cmp.Diff([]string{"ice_breakers", "greeting"}, body.Fields); diff != "" {
			t.Errorf("deleted fields (-want +got):\n%s", diff)
		}
		if _, ok := e.g.profile("1001")["greeting"]; ok {
			t.Error("greeting still set at Meta")
		}

		// The menu goes before Get Started.
		if _, err := e.svc.Configure(ctx, actor, ws, ch.ID, "", channel.Settings{}); err != nil {
			t.Fatal(err)
		}
		dels = e.g.callsTo("DELETE", "/me/messenger_profile")
		json.Unmarshal([]byte(dels[len(dels)-1].Body), &body)
		if diff := cmp.Diff([]string{"persistent_menu", "get_started"}, body.Fields); diff != "" {
			t.Errorf("deleted fields (-want +got):\n%s", diff)
		}
		if p := e.g.profile("1001"); len(p) != 0 {
			t.Errorf("profile left at Meta: %v", p)
		}

		// Unchanged settings: no Graph call, only the reply changes.
		calls := e.g.callCount()
		out, err = e.svc.Configure(ctx, actor, ws, ch.ID, "New reply", channel.Settings{Menu: []channel.MenuItem{}})
		if err != nil || out.AutoReply != "New reply" {
			t.Fatalf("got %+v, %v", out, err)
		}
		if e.g.callCount() != calls {
			t.Error("an unchanged profile was pushed")
		}
	})
}

func TestConfigureRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, other := e.workspace(t), e.workspace(t)
		ch := e.connected(t, ws, "1001")
		wantCode := func(t *testing.T, err error, code string) {
			t.Helper()
			var ce *connect.ConnectError
			if !errors.As(err, &ce) || ce.Code != code {
				t.Fatalf("got %v; want ConnectError %s", err, code)
			}
		}

		if _, err := e.svc.Configure(ctx, actor, other, ch.ID, "x", channel.Settings{}); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another workspace: %v; want ErrNotFound", err)
		}

		t.Run("meta refuses", func(t *testing.T) {
			e.g.setRefuse("/me/messenger_profile", 100)
			defer e.g.setRefuse("/me/messenger_profile", 0)
			_, err := e.svc.Configure(ctx, actor, ws, ch.ID, "reply", fullSettings)
			wantCode(t, err, connect.CodeSettingsRejected)
			got, _ := e.channels.Get(ctx, ws, ch.ID)
			if got.AutoReply != "" || got.Settings.GetStarted != "" {
				t.Errorf("refused settings were stored: %+v", got)
			}
		})
		e.g.mu.Lock()
		delete(e.g.refuse, "/me/messenger_profile")
		e.g.mu.Unlock()

		t.Run("needs reconnect", func(t *testing.T) {
			if err := e.channels.MarkNeedsReconnect(ctx, ws, ch.ID, "dead"); err != nil {
				t.Fatal(err)
			}
			_, err := e.svc.Configure(ctx, actor, ws, ch.ID, "", fullSettings)
			wantCode(t, err, connect.CodeNeedsReconnect)
			out, err := e.svc.Configure(ctx, actor, ws, ch.ID, "Only the reply", channel.Settings{})
			if err != nil || out.AutoReply != "Only the reply" {
				t.Errorf("auto reply while needing reconnect: %+v, %v", out, err)
			}
		})
		t.Run("a token that died is marked", func(t *testing.T) {
			ch2 := e.connected(t, ws, "1002")
			e.g.rotate("1002", "EAAG-PAGE-1002-rotated")
			_, err := e.svc.Configure(ctx, actor, ws, ch2.ID, "", fullSettings)
			wantCode(t, err, connect.CodeTokenInvalid)
			got, _ := e.channels.Get(ctx, ws, ch2.ID)
			if got.TokenState != channel.TokenNeedsReconnect {
				t.Errorf("token state %s", got.TokenState)
			}
		})
		t.Run("disconnected", func(t *testing.T) {
			ch3 := e.connected(t, ws, "1003")
			if _, err := e.svc.Disconnect(ctx, actor, ws, ch3.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Configure(ctx, actor, ws, ch3.ID, "x", channel.Settings{}); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("got %v; want ErrNotFound", err)
			}
		})
	})
}

func TestConfigureValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ch := e.connected(t, ws, "1001")
		menu := func(items ...channel.MenuItem) channel.Settings {
			return channel.Settings{GetStarted: "GO", Menu: items}
		}
		many := func(n int) []channel.MenuItem {
			out := make([]channel.MenuItem, n)
			for i := range out {
				out[i] = channel.MenuItem{Title: "T", Payload: "P"}
			}
			return out
		}
		for _, tc := range []struct {
			name  string
			reply string
			st    channel.Settings
			field string
		}{
			{"reply too long", strings.Repeat("a", 2001), channel.Settings{}, "auto_reply"},
			{"reply control characters", "a\x00b", channel.Settings{}, "auto_reply"},
			{"reply not utf-8", "a\xffb", channel.Settings{}, "auto_reply"},
			{"greeting too long", "", channel.Settings{Greeting: strings.Repeat("g", 161)}, "greeting"},
			{"get started too long", "", channel.Settings{GetStarted: strings.Repeat("p", 1001)}, "get_started"},
			{"menu without get started", "", channel.Settings{Menu: many(1)}, "menu"},
			{"too many menu items", "", menu(many(21)...), "menu"},
			{"menu title empty", "", menu(channel.MenuItem{Title: " ", Payload: "P"}), "menu[0].title"},
			{"menu title too long", "", menu(many(1)[0], channel.MenuItem{Title: strings.Repeat("t", 31), Payload: "P"}), "menu[1].title"},
			{"menu neither payload nor link", "", menu(channel.MenuItem{Title: "T"}), "menu[0].payload"},
			{"menu payload too long", "", menu(channel.MenuItem{Title: "T", Payload: strings.Repeat("p", 1001)}), "menu[0].payload"},
			{"menu both", "", menu(channel.MenuItem{Title: "T", Payload: "P", URL: "https://x.example"}), "menu[0].url"},
			{"menu javascript link", "", menu(channel.MenuItem{Title: "T", URL: "javascript:alert(1)"}), "menu[0].url"},
			{"menu relative link", "", menu(channel.MenuItem{Title: "T", URL: "/shop"}), "menu[0].url"},
			{"too many ice breakers", "", channel.Settings{IceBreakers: make([]channel.IceBreaker, 5)}, "ice_breakers"},
			{"ice breaker without question", "", channel.Settings{IceBreakers: []channel.IceBreaker{{Payload: "P"}}}, "ice_breakers[0].question"},
			{"ice breaker question too long", "", channel.Settings{IceBreakers: []channel.IceBreaker{{Question: strings.Repeat("q", 81), Payload: "P"}}}, "ice_breakers[0].question"},
			{"ice breaker without payload", "", channel.Settings{IceBreakers: []channel.IceBreaker{{Question: "Q"}}}, "ice_breakers[0].payload"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.svc.Configure(context.Background(), actor, ws, ch.ID, tc.reply, tc.st)
				v, ok := validate.As(err)
				if !ok || v.Field != tc.field {
					t.Fatalf("got %v; want a validation error on %s", err, tc.field)
				}
			})
		}
		if n := len(e.g.callsTo("", "/me/messenger_profile")); n != 0 {
			t.Errorf("invalid settings reached Meta (%d calls)", n)
		}
		// The limits themselves pass.
		st := channel.Settings{
			GetStarted:  strings.Repeat("p", 1000),
			Greeting:    strings.Repeat("ក", 160),
			Menu:        append(many(19), channel.MenuItem{Title: strings.Repeat("t", 30), URL: "http://x.example/" + strings.Repeat("u", 100)}),
			IceBreakers: []channel.IceBreaker{{Question: strings.Repeat("q", 80), Payload: "1"}, {Question: "b", Payload: "2"}, {Question: "c", Payload: "3"}, {Question: "d", Payload: "4"}},
		}
		if _, err := e.svc.Configure(context.Background(), actor, ws, ch.ID, strings.Repeat("r", 2000), st); err != nil {
			t.Fatalf("limits refused: %v", err)
		}
	})
}

package api_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// channelOut is a channel as the API returns it.
type channelOut struct {
	ID, Type, Name, Status string
	PageID                 string `json:"page_id"`
	TokenState             string `json:"token_state"`
	AutoReply              string `json:"auto_reply"`
	Health                 struct {
		LastEventAt *time.Time `json:"last_event_at"`
		LastError   string     `json:"last_error"`
		LastErrorAt *time.Time `json:"last_error_at"`
	}
	Settings struct {
		GetStarted  string               `json:"get_started"`
		Greeting    string               `json:"greeting"`
		Menu        []channel.MenuItem   `json:"menu"`
		IceBreakers []channel.IceBreaker `json:"ice_breakers"`
	}
}

// Promise P-10, issue 3 item 7: a Page is connected by its access token,
// which the Graph API (the simulator) checks first; bad input changes
// nothing and says what is wrong; the token never comes back, in any
// response or log line.
func TestConnectPageByToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		sim := a.Sim.Sim()
		fb := sim.AddUser("Sokha")
		pg, other := sim.AddPage(fb.ID, "Sokha Shop"), sim.AddPage(fb.ID, "Sokha Cafe")
		owner := a.SignUp(t, "page-owner")
		ws := owner.CreateWorkspace(t, "Sokha Shop")
		base := "/api/v1/workspaces/" + ws + "/channels"

		for _, tc := range []struct {
			name   string
			body   any
			status int
			code   string
			field  string
		}{
			{"another platform", map[string]string{"type": "instagram", "page_id": pg.ID, "access_token": pg.Token}, 422, "invalid_type", "type"},
			{"no type", map[string]string{"page_id": pg.ID, "access_token": pg.Token}, 422, "invalid_type", "type"},
			{"no page ID", map[string]string{"type": "messenger", "access_token": pg.Token}, 422, "invalid_page_id", "page_id"},
			{"no token", map[string]string{"type": "messenger", "page_id": pg.ID}, 422, "invalid_access_token", "access_token"},
			{"unknown field", map[string]string{"type": "messenger", "page_id": pg.ID, "access_token": pg.Token, "token_state": "ok"}, 400, "unknown_field", ""},
			{"wrong type", map[string]any{"type": "messenger", "page_id": 42, "access_token": pg.Token}, 400, "wrong_type", "page_id"},
			{"token Meta refuses", map[string]string{"type": "messenger", "page_id": pg.ID, "access_token": "EAAnot-a-real-token"}, 422, "token_invalid", ""},
			{"token of another page", map[string]string{"type": "messenger", "page_id": pg.ID, "access_token": other.Token}, 422, "token_mismatch", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := owner.Do("POST", base, tc.body)
				var e struct {
					Error struct{ Code, Field, Message string }
				}
				res.JSON(t, &e)
				if res.Status != tc.status || e.Error.Code != tc.code || (tc.field != "" && e.Error.Field != tc.field) || e.Error.Message == "" {
					t.Fatalf("got %d %s, want %d %s on %q", res.Status, res.Body, tc.status, tc.code, tc.field)
				}
				if strings.Contains(string(res.Body), pg.Token) || strings.Contains(string(res.Body), other.Token) {
					t.Fatal("a refusal repeats the token")
				}
				if n := countRows(t, d, "channels"); n != 0 {
					t.Fatalf("%d channels after a refused connect", n)
				}
			})
		}

		res := owner.Do("POST", base, map[string]string{"type": "messenger", "page_id": pg.ID, "access_token": pg.Token}).Must(t, 201)
		var c channelOut
		res.JSON(t, &c)
		if c.ID == "" || c.Type != "messenger" || c.PageID != pg.ID || c.Name != "Sokha Shop" || c.Status != "active" || c.TokenState != "ok" ||
			c.Health.LastEventAt != nil || c.Health.LastErrorAt != nil || c.Settings.Menu == nil || c.Settings.IceBreakers == nil {
			t.Fatalf("connected channel = %s", res.Body)
		}
		if len(sim.Subscriptions(pg.ID)) == 0 {
			t.Error("the page was not subscribed to the app's webhooks")
		}
		var list struct{ Channels []channelOut }
		listRes := owner.Do("GET", base, nil).Must(t, 200)
		listRes.JSON(t, &list)
		if len(list.Channels) != 1 || list.Channels[0].ID != c.ID {
			t.Fatalf("list = %s", listRes.Body)
		}
		one := owner.Do("GET", base+"/"+c.ID, nil).Must(t, 200)
		for _, body := range [][]byte{res.Body, listRes.Body, one.Body} {
			if strings.Contains(string(body), pg.Token) || strings.Contains(string(body), "access_token") {
				t.Errorf("a response carries the token: %s", body)
			}
		}

		// The same Page in another workspace: refused, the first keeps it.
		other2 := a.SignUp(t, "rival")
		ws2 := other2.CreateWorkspace(t, "Rival")
		if code := other2.Do("POST", "/api/v1/workspaces/"+ws2+"/channels", map[string]string{"type": "messenger", "page_id": pg.ID, "access_token": pg.Token}).Must(t, 409).ErrorCode(); code != "page_taken" {
			t.Errorf("page taken: code %q", code)
		}
		// API keys of admins may connect too (for provisioning scripts).
		var k struct{ Secret string }
		owner.Do("POST", "/api/v1/workspaces/"+ws+"/api-keys", map[string]string{"name": "ops", "role": "admin"}).Must(t, 201).JSON(t, &k)
		key := a.Client(t)
		key.Header.Set("Authorization", "Bearer "+k.Secret)
		key.Do("POST", base, map[string]string{"type": "messenger", "page_id": other.ID, "access_token": other.Token}).Must(t, 201)

		if logs := a.Logs.String(); strings.Contains(logs, pg.Token) || strings.Contains(logs, other.Token) {
			t.Error("a log line carries a page token")
		}
	})
}

// A channel's health (issue 3 item 7): the last event, the last platform
// error and the token state, as the store records them.
func TestChannelHealth(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "health")
		ws := owner.CreateWorkspace(t, "Health")
		s := seedConversation(t, a, ws, "hi")
		ctx := context.Background()
		at := a.Clock.Now()
		if err := a.Channels.Touch(ctx, a.DB.W, at, s.channel.ID); err != nil {
			t.Fatal(err)
		}
		a.Clock.Advance(time.Minute)
		if err := a.Channels.MarkNeedsReconnect(ctx, ws, s.channel.ID, "Error validating access token: the session has been invalidated"); err != nil {
			t.Fatal(err)
		}
		var c channelOut
		owner.Do("GET", "/api/v1/workspaces/"+ws+"/channels/"+s.channel.ID, nil).Must(t, 200).JSON(t, &c)
		if c.TokenState != "needs_reconnect" || c.Health.LastEventAt == nil || !c.Health.LastEventAt.Equal(at) ||
			c.Health.LastErrorAt == nil || !c.Health.LastErrorAt.Equal(a.Clock.Now()) || !strings.Contains(c.Health.LastError, "invalidated") {
			t.Fatalf("health = %+v", c)
		}
	})
}

// Settings are replaced as a whole (PUT), pushed to Messenger's profile
// API, and a Page is disconnected: unsubscribed, its token destroyed, its
// conversations kept.
func TestChannelSettingsAndDisconnect(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		sim := a.Sim.Sim()
		pg := sim.AddPage(sim.AddUser("Dara").ID, "Dara Books")
		owner := a.SignUp(t, "settings")
		ws := owner.CreateWorkspace(t, "Dara Books")
		base := "/api/v1/workspaces/" + ws + "/channels"
		var c channelOut
		owner.Do("POST", base, map[string]string{"type": "messenger", "page_id": pg.ID, "access_token": pg.Token}).Must(t, 201).JSON(t, &c)

		settings := map[string]any{
			"auto_reply": "Thanks for writing! We answer within the hour.", "get_started": "GET_STARTED",
			"greeting":     "Hi {{user_first_name}}, welcome to Dara Books!",
			"menu":         []map[string]string{{"title": "Opening hours", "payload": "HOURS"}, {"title": "Our shop", "url": "https://example.com/shop"}},
			"ice_breakers": []map[string]string{{"question": "What are your prices?", "payload": "PRICES"}},
		}
		var got channelOut
		owner.Do("PUT", base+"/"+c.ID+"/settings", settings).Must(t, 200).JSON(t, &got)
		if got.AutoReply != settings["auto_reply"] || got.Settings.GetStarted != "GET_STARTED" || len(got.Settings.Menu) != 2 ||
			got.Settings.Menu[1].URL != "https://example.com/shop" || len(got.Settings.IceBreakers) != 1 {
			t.Fatalf("settings = %+v", got)
		}
		if p := string(sim.Profile(pg.ID)); !strings.Contains(p, "GET_STARTED") || !strings.Contains(p, "welcome to Dara Books") {
			t.Errorf("the simulator's messenger profile = %s", p)
		}
		// A bad value changes nothing.
		res := owner.Do("PUT", base+"/"+c.ID+"/settings", map[string]any{"greeting": strings.Repeat("g", 161)})
		if res.Status != 422 || res.ErrorCode() == "" {
			t.Errorf("a 161-character greeting: %d %s", res.Status, res.Body)
		}
		owner.Do("GET", base+"/"+c.ID, nil).Must(t, 200).JSON(t, &got)
		if got.AutoReply != settings["auto_reply"] || got.Settings.Greeting == "" {
			t.Errorf("a refused change changed the settings: %+v", got)
		}
		owner.Do("PUT", base+"/no-such-channel/settings", settings).Must(t, 404)

		s := seedConversation(t, a, ws, "still here after the disconnect?")
		owner.Do("DELETE", base+"/"+c.ID, nil).Must(t, 200).JSON(t, &got)
		if got.Status != "disconnected" {
			t.Fatalf("after disconnect: %+v", got)
		}
		ch, err := a.Channels.Get(context.Background(), ws, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Channels.Token(context.Background(), ch); !errors.Is(err, channel.ErrNoToken) {
			t.Errorf("token after disconnect: %v", err)
		}
		if subs := sim.Subscriptions(pg.ID); len(subs) != 0 {
			t.Errorf("still subscribed after disconnect: %v", subs)
		}
		owner.Do("GET", "/api/v1/workspaces/"+ws+"/conversations/"+s.conversationID, nil).Must(t, 200)
	})
}

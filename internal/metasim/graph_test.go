package metasim

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// accounts lists /me/accounts (first page only).
func (f *fixture) accounts(t *testing.T, userTok string) []map[string]any {
	t.Helper()
	st, b := f.graph(t, req{path: "/me/accounts", token: userTok})
	var res struct {
		Data []map[string]any `json:"data"`
	}
	if st != 200 || json.Unmarshal(b, &res) != nil {
		t.Fatalf("accounts %d %s", st, b)
	}
	return res.Data
}

func TestUserProfile(t *testing.T) {
	f := newFixture(t)
	st, b := f.graph(t, req{path: "/" + f.psid, token: f.page.Token, query: url.Values{"fields": {"first_name,last_name,profile_pic,locale"}}})
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	// Requested fields in order, id last, "/" escaped as Meta does.
	want := `{"first_name":"Peter","last_name":"Chang","profile_pic":"` + strings.ReplaceAll(f.srv.URL, "/", `\/`) + `\/_sim\/pic\/` + f.psid + `.png","locale":"en_US","id":"` + f.psid + `"}`
	if string(b) != want {
		t.Fatalf("profile\n got %s\nwant %s", b, want)
	}
	// The picture is served.
	resp, err := http.Get(f.srv.URL + "/_sim/pic/" + f.psid + ".png")
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("picture: %v %v", err, resp)
	}
	resp.Body.Close()

	t.Run("unknown field", func(t *testing.T) {
		st, b := f.graph(t, req{path: "/" + f.psid, token: f.page.Token, query: url.Values{"fields": {"first_name,email"}}})
		wantError(t, st, b, 400, 100, 0)
	})
	t.Run("no profile access", func(t *testing.T) {
		psid := f.s.AddPerson(f.page.ID, Person{FirstName: "Hidden", NoProfile: true})
		st, b := f.graph(t, req{path: "/" + psid, token: f.page.Token, query: url.Values{"fields": {"first_name,last_name"}}})
		if st != 200 || string(b) != "{}" {
			t.Fatalf("%d %s", st, b)
		}
	})
	t.Run("phone-only account", func(t *testing.T) {
		psid := f.s.AddPerson(f.page.ID, Person{PhoneOnly: true})
		st, b := f.graph(t, req{path: "/" + psid, token: f.page.Token, query: url.Values{"fields": {"first_name"}}})
		wantError(t, st, b, 400, 2018218, 0)
	})
	t.Run("another page's token", func(t *testing.T) {
		other := f.s.AddPage(f.user.ID, "Other")
		st, b := f.graph(t, req{path: "/" + f.psid, token: other.Token})
		wantError(t, st, b, 400, 100, 33)
	})
	t.Run("user token", func(t *testing.T) {
		st, b := f.graph(t, req{path: "/" + f.psid, token: f.s.UserToken(f.user.ID)})
		wantError(t, st, b, 403, 210, 0)
	})
}

func TestPageNodes(t *testing.T) {
	f := newFixture(t)
	st, b := f.graph(t, req{path: "/me", token: f.page.Token, query: url.Values{"fields": {"id,name"}}})
	if st != 200 || string(b) != `{"name":"Coast Clothing","id":"`+f.page.ID+`"}` {
		t.Fatalf("GET /me: %d %s", st, b)
	}
	st, b = f.graph(t, req{path: "/" + f.page.ID, token: f.page.Token, query: url.Values{"fields": {"id,name"}}})
	if m := wantOK(t, st, b); m["id"] != f.page.ID || m["name"] != "Coast Clothing" {
		t.Fatalf("GET /{page-id}: %s", b)
	}
	// The owner's user token can read the page, and its token.
	userTok := f.s.UserToken(f.user.ID)
	st, b = f.graph(t, req{path: "/" + f.page.ID, token: userTok, query: url.Values{"fields": {"access_token"}}})
	pt := wantOK(t, st, b)["access_token"].(string)
	st, b = f.graph(t, req{path: "/me", token: pt})
	if m := wantOK(t, st, b); m["id"] != f.page.ID {
		t.Fatalf("page token from ?fields=access_token: %s", b)
	}
	// Another page's token cannot.
	other := f.s.AddPage("", "Stranger")
	st, b = f.graph(t, req{path: "/" + f.page.ID, token: other.Token})
	wantError(t, st, b, 400, 10, 0)
	st, b = f.graph(t, req{path: "/me", token: f.page.Token, query: url.Values{"fields": {"id,fan_count"}}})
	wantError(t, st, b, 400, 100, 0)
	st, b = f.graph(t, req{path: "/me/accounts", token: f.page.Token})
	e := wantError(t, st, b, 400, 100, 0)
	if !strings.Contains(e.Message, "nonexisting field (accounts) on node type (Page)") {
		t.Fatalf("message %q", e.Message)
	}
	st, b = f.graph(t, req{path: "/me/feed/extra", token: f.page.Token})
	wantError(t, st, b, 400, 2500, 0)
	st, b = f.graph(t, req{path: "/999999999", token: f.page.Token})
	wantError(t, st, b, 400, 100, 33)
	st, b = f.graph(t, req{method: http.MethodGet, path: "/me/messages", token: f.page.Token})
	wantError(t, st, b, 400, 100, 33)
}

func TestAccountsPaging(t *testing.T) {
	f := newFixture(t)
	f.s.AddPage(f.user.ID, "Second")
	f.s.AddPage(f.user.ID, "Third")
	f.s.AddPage("", "Not theirs")
	tok := f.s.UserToken(f.user.ID)

	st, b := f.graph(t, req{path: "/me/accounts", token: tok, query: url.Values{"limit": {"2"}}})
	var page1 struct {
		Data []struct {
			ID          string   `json:"id"`
			Name        string   `json:"name"`
			AccessToken string   `json:"access_token"`
			Tasks       []string `json:"tasks"`
		} `json:"data"`
		Paging struct {
			Next string `json:"next"`
		} `json:"paging"`
	}
	if st != 200 || json.Unmarshal(b, &page1) != nil {
		t.Fatalf("%d %s", st, b)
	}
	if len(page1.Data) != 2 || page1.Data[0].Name != "Coast Clothing" || page1.Data[1].Name != "Second" || len(page1.Data[0].Tasks) == 0 {
		t.Fatalf("page 1: %s", b)
	}
	// Meta's next link carries the token in its query string.
	next, err := url.Parse(page1.Paging.Next)
	if err != nil || next.Query().Get("access_token") != tok || next.Query().Get("after") == "" {
		t.Fatalf("next %q", page1.Paging.Next)
	}
	// Follow it the safe way: the token in the header, the cursor kept.
	q := next.Query()
	q.Del("access_token")
	st, b = f.graph(t, req{path: strings.TrimPrefix(next.Path, "/v23.0"), token: tok, query: q})
	var page2 struct {
		Data   []map[string]any `json:"data"`
		Paging struct {
			Next string `json:"next"`
		} `json:"paging"`
	}
	if st != 200 || json.Unmarshal(b, &page2) != nil || len(page2.Data) != 1 || page2.Data[0]["name"] != "Third" || page2.Paging.Next != "" {
		t.Fatalf("page 2: %d %s", st, b)
	}
	// The page tokens work.
	st, b = f.graph(t, req{path: "/me", token: page1.Data[1].AccessToken})
	if m := wantOK(t, st, b); m["name"] != "Second" {
		t.Fatalf("page token: %s", b)
	}
	// Another user's token cannot list them.
	st, b = f.graph(t, req{path: "/" + f.user.ID + "/accounts", token: f.s.UserToken(f.s.AddUser("Mallory").ID)})
	wantError(t, st, b, 400, 100, 33)
}

func TestSubscribedApps(t *testing.T) {
	f := newFixture(t)
	post := func(fields string) (int, []byte) {
		return f.graph(t, req{method: http.MethodPost, path: "/" + f.page.ID + "/subscribed_apps", token: f.page.Token,
			query: url.Values{"subscribed_fields": {fields}}})
	}
	st, b := post("messages,messaging_postbacks,message_echoes,messages")
	if st != 200 || string(b) != `{"success":true}` {
		t.Fatalf("subscribe %d %s", st, b)
	}
	if got := f.s.Subscriptions(f.page.ID); strings.Join(got, ",") != "messages,messaging_postbacks,message_echoes" {
		t.Fatalf("subscriptions %v", got)
	}
	st, b = f.graph(t, req{path: "/me/subscribed_apps", token: f.page.Token})
	var got struct {
		Data []struct {
			ID               string   `json:"id"`
			SubscribedFields []string `json:"subscribed_fields"`
		} `json:"data"`
	}
	if st != 200 || json.Unmarshal(b, &got) != nil || len(got.Data) != 1 || got.Data[0].ID != f.s.AppID() || len(got.Data[0].SubscribedFields) != 3 {
		t.Fatalf("GET subscribed_apps %d %s", st, b)
	}
	st, b = post("messages,bogus_field")
	wantError(t, st, b, 400, 100, 0)
	st, b = f.graph(t, req{method: http.MethodPost, path: "/" + f.page.ID + "/subscribed_apps", token: f.page.Token})
	wantError(t, st, b, 400, 100, 0)
	st, b = f.graph(t, req{method: http.MethodPost, path: "/" + f.page.ID + "/subscribed_apps", token: f.s.UserToken(f.user.ID),
		query: url.Values{"subscribed_fields": {"messages"}}})
	wantError(t, st, b, 403, 210, 0)

	st, b = f.graph(t, req{method: http.MethodDelete, path: "/" + f.page.ID + "/subscribed_apps", token: f.page.Token})
	if st != 200 || string(b) != `{"success":true}` || f.s.Subscriptions(f.page.ID) != nil {
		t.Fatalf("unsubscribe %d %s %v", st, b, f.s.Subscriptions(f.page.ID))
	}
	st, b = f.graph(t, req{path: "/me/subscribed_apps", token: f.page.Token})
	if st != 200 || string(b) != `{"data":[]}` {
		t.Fatalf("after unsubscribe %d %s", st, b)
	}
}

func TestMessengerProfile(t *testing.T) {
	f := newFixture(t)
	set := func(body any) (int, []byte) {
		return f.graph(t, req{method: http.MethodPost, path: "/me/messenger_profile", token: f.page.Token, json: body})
	}
	menu := []any{map[string]any{"locale": "default", "composer_input_disabled": false, "call_to_actions": []any{
		map[string]any{"type": "postback", "title": "Talk to an agent", "payload": "CARE_HELP"},
		map[string]any{"type": "web_url", "title": "Shop now", "url": "https://shop.test/"},
	}}}
	greeting := func(text string) []any { return []any{map[string]any{"locale": "default", "text": text}} }
	breakers := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{"question": "Q?", "payload": "P"}
		}
		return out
	}

	st, b := set(map[string]any{"persistent_menu": menu})
	if e := wantError(t, st, b, 400, 100, 0); !strings.Contains(e.Message, "Get Started") {
		t.Fatalf("menu without get_started: %+v", e)
	}
	for name, body := range map[string]any{
		"greeting 161":          map[string]any{"greeting": greeting(strings.Repeat("é", 161))},
		"greeting no default":   map[string]any{"greeting": []any{map[string]any{"locale": "fr_FR", "text": "Salut"}}},
		"5 ice breakers":        map[string]any{"ice_breakers": breakers(5)},
		"empty get_started":     map[string]any{"get_started": map[string]any{"payload": ""}},
		"unknown property":      map[string]any{"home_url": "https://x.test"},
		"nothing":               map[string]any{},
		"menu item title 31":    map[string]any{"get_started": map[string]any{"payload": "GS"}, "persistent_menu": []any{map[string]any{"locale": "default", "call_to_actions": []any{map[string]any{"type": "postback", "title": strings.Repeat("x", 31), "payload": "P"}}}}},
		"http whitelist domain": map[string]any{"whitelisted_domains": []any{"http://shop.test"}},
	} {
		st, b := set(body)
		if st != 400 || decodeError(t, b).Code != 100 {
			t.Errorf("%s: %d %s", name, st, b)
		}
	}
	st, b = set(map[string]any{"get_started": map[string]any{"payload": "GET_STARTED"}, "greeting": greeting(strings.Repeat("é", 160)),
		"persistent_menu": menu, "ice_breakers": breakers(4)})
	if st != 200 || string(b) != `{"result":"success"}` {
		t.Fatalf("set %d %s", st, b)
	}
	// The localized ice-breaker form is accepted too.
	st, b = set(map[string]any{"ice_breakers": []any{map[string]any{"locale": "default", "call_to_actions": breakers(2)}}})
	wantOK(t, st, b)

	st, b = f.graph(t, req{path: "/me/messenger_profile", token: f.page.Token, query: url.Values{"fields": {"get_started,whitelisted_domains"}}})
	if st != 200 || string(b) != `{"data":[{"get_started":{"payload":"GET_STARTED"}}]}` {
		t.Fatalf("get %d %s", st, b)
	}
	st, b = f.graph(t, req{path: "/me/messenger_profile", token: f.page.Token})
	wantError(t, st, b, 400, 100, 0)

	del := func(fields ...string) (int, []byte) {
		return f.graph(t, req{method: http.MethodDelete, path: "/me/messenger_profile", token: f.page.Token, json: map[string]any{"fields": fields}})
	}
	st, b = del("get_started")
	wantError(t, st, b, 400, 100, 0)
	st, b = del("persistent_menu", "get_started")
	if st != 200 || string(b) != `{"result":"success"}` {
		t.Fatalf("delete %d %s", st, b)
	}
	var prof map[string]json.RawMessage
	if err := json.Unmarshal(f.s.Profile(f.page.ID), &prof); err != nil {
		t.Fatal(err)
	}
	if _, has := prof["get_started"]; has || prof["greeting"] == nil || prof["ice_breakers"] == nil || prof["persistent_menu"] != nil {
		t.Fatalf("profile %s", f.s.Profile(f.page.ID))
	}
}

func TestUploadAttachment(t *testing.T) {
	f := newFixture(t)
	up := func(typ string, reusable any, u string) (int, []byte) {
		payload := map[string]any{"is_reusable": reusable}
		if u != "" {
			payload["url"] = u
		}
		return f.graph(t, req{method: http.MethodPost, path: "/me/message_attachments", token: f.page.Token,
			json: map[string]any{"message": map[string]any{"attachment": map[string]any{"type": typ, "payload": payload}}}})
	}
	st, b := up("image", true, "https://cdn.test/a.png")
	if id, _ := wantOK(t, st, b)["attachment_id"].(string); id == "" || strings.Trim(id, "0123456789") != "" {
		t.Fatalf("attachment_id %s", b)
	}
	for _, c := range []struct {
		typ      string
		reusable any
		url      string
	}{
		{"image", false, "https://cdn.test/a.png"},
		{"template", true, "https://cdn.test/a.png"},
		{"image", true, ""},
		{"image", true, "ftp://cdn.test/a.png"},
	} {
		st, b := up(c.typ, c.reusable, c.url)
		wantError(t, st, b, 400, 100, 0)
	}
}

func TestHandover(t *testing.T) {
	f := newFixture(t)
	st, b := f.graph(t, req{method: http.MethodPost, path: "/me/pass_thread_control", token: f.page.Token, json: map[string]any{
		"recipient": map[string]any{"id": f.psid}, "target_app_id": 263902037430900, "metadata": "to inbox"}})
	if st != 200 || string(b) != `{"success":true}` {
		t.Fatalf("%d %s", st, b)
	}
	st, b = f.graph(t, req{method: http.MethodPost, path: "/me/pass_thread_control", token: f.page.Token, json: map[string]any{
		"recipient": map[string]any{"id": f.psid}}})
	wantError(t, st, b, 400, 100, 0)
	st, b = f.graph(t, req{method: http.MethodPost, path: "/me/take_thread_control", token: f.page.Token, json: map[string]any{
		"recipient": map[string]any{"id": "42"}}})
	wantError(t, st, b, 400, 100, 2018001)
}

// The multipart form of message_attachments: "message" JSON and a
// "filedata" file.
func TestUploadAttachmentMultipart(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("message", `{"attachment":{"type":"file","payload":{"is_reusable":true}}}`)
	fw, _ := mw.CreateFormFile("filedata", "menu.pdf")
	fw.Write([]byte("%PDF-1.4"))
	mw.Close()
	r, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v23.0/me/message_attachments?appsecret_proof="+AppSecretProof(f.s.AppSecret(), f.page.Token), &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.Header.Set("Authorization", "Bearer "+f.page.Token)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if m := wantOK(t, resp.StatusCode, b); m["attachment_id"] == "" {
		t.Fatalf("%s", b)
	}
}

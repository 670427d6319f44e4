package metasim

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// checkSigned asserts a delivery carries Meta's headers and valid
// signatures over its exact bytes.
func checkSigned(t *testing.T, d delivery) {
	t.Helper()
	if d.method != http.MethodPost || d.header.Get("Content-Type") != "application/json" {
		t.Fatalf("delivery %s %v", d.method, d.header)
	}
	if d.header.Get("X-Hub-Signature-256") != Signature256("test_app_secret", d.body) ||
		d.header.Get("X-Hub-Signature") != Signature1("test_app_secret", d.body) {
		t.Fatalf("bad signatures for %s", d.body)
	}
}

type inbound struct {
	Object string `json:"object"`
	Entry  []struct {
		ID        string            `json:"id"`
		Time      int64             `json:"time"`
		Messaging []json.RawMessage `json:"messaging"`
		Standby   []json.RawMessage `json:"standby"`
	} `json:"entry"`
}

func decodeInbound(t *testing.T, b []byte) inbound {
	t.Helper()
	var in inbound
	if err := json.Unmarshal(b, &in); err != nil || in.Object != "page" {
		t.Fatalf("not a page webhook: %s", b)
	}
	return in
}

func TestSendTextWebhook(t *testing.T) {
	f := newFixture(t)
	const khmer = "សួស្តី / ខ្ញុំចង់ទិញ"
	mid, st, err := f.s.SendText(ctx(t), f.page.ID, f.psid, khmer, QuickReply("BUY"), ReplyTo("m_prev"))
	if err != nil || st != 200 || !strings.HasPrefix(mid, "m_") {
		t.Fatalf("%q %d %v", mid, st, err)
	}
	d := f.rc.wait(t, 1)[0]
	checkSigned(t, d)
	for _, c := range d.body {
		if c >= utf8.RuneSelf {
			t.Fatalf("Meta's form is ASCII only: %s", d.body)
		}
	}
	if !bytes.Contains(d.body, []byte(`"text":"\u179f\u17bd\u179f\u17d2\u178f\u17b8 \/ \u1781`)) {
		t.Fatalf("escaping: %s", d.body)
	}
	ms := f.clock.Now().UnixMilli()
	want := `{"object":"page","entry":[{"id":"` + f.page.ID + `","time":` + itoa(ms) + `,"messaging":[{"sender":{"id":"` + f.psid +
		`"},"recipient":{"id":"` + f.page.ID + `"},"timestamp":` + itoa(ms) + `,"message":{"mid":"` + mid + `","text":"` +
		string(EscapeJSON([]byte(`"` + khmer + `"`)))[1:len(EscapeJSON([]byte(`"`+khmer+`"`)))-1] +
		`","quick_reply":{"payload":"BUY"},"reply_to":{"mid":"m_prev"}}}]}]}`
	if string(d.body) != want {
		t.Fatalf("body\n got %s\nwant %s", d.body, want)
	}

	// RawUTF8: same value, raw bytes, its own valid signature.
	if _, _, err := f.s.SendText(ctx(t), f.page.ID, f.psid, khmer, RawUTF8(), WithMID("m_raw")); err != nil {
		t.Fatal(err)
	}
	d = f.rc.wait(t, 2)[1]
	checkSigned(t, d)
	if !bytes.Contains(d.body, []byte(`"text":"`+khmer+`"`)) {
		t.Fatalf("raw body: %s", d.body)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestEventShapes(t *testing.T) {
	f := newFixture(t)
	wm := time.UnixMilli(1458668856253)
	for _, c := range []struct {
		name string
		play func() (string, int, error)
		want string // the messaging item after sender/recipient/timestamp
	}{
		{"attachment", func() (string, int, error) {
			return f.s.SendAttachment(ctx(t), f.page.ID, f.psid, "image", "https://cdn.test/p.jpg", WithMID("m_a"))
		}, `"message":{"mid":"m_a","attachments":[{"type":"image","payload":{"url":"https:\/\/cdn.test\/p.jpg"}}]}`},
		{"postback with referral", func() (string, int, error) {
			return f.s.Postback(ctx(t), f.page.ID, f.psid, "Get Started", "GET_STARTED", &Referral{Ref: "summer"}, WithMID("m_p"))
		}, `"postback":{"title":"Get Started","payload":"GET_STARTED","referral":{"ref":"summer","source":"SHORTLINK","type":"OPEN_THREAD"},"mid":"m_p"}`},
		{"referral", func() (string, int, error) {
			return f.s.Referral(ctx(t), f.page.ID, f.psid, Referral{Ref: "ad1", Source: "ADS", AdID: "6045246247433"})
		}, `"referral":{"ref":"ad1","source":"ADS","type":"OPEN_THREAD","ad_id":"6045246247433"}`},
		{"optin", func() (string, int, error) { return f.s.Optin(ctx(t), f.page.ID, f.psid, "PASS_THROUGH") }, `"optin":{"ref":"PASS_THROUGH"}`},
		{"reaction", func() (string, int, error) { return f.s.Reaction(ctx(t), f.page.ID, f.psid, "m_x", "❤️") },
			`"reaction":{"reaction":"love","emoji":"\u2764\ufe0f","action":"react","mid":"m_x"}`},
		{"unreact", func() (string, int, error) { return f.s.Reaction(ctx(t), f.page.ID, f.psid, "m_x", "👍", Unreact()) },
			`"reaction":{"reaction":"like","emoji":"\ud83d\udc4d","action":"unreact","mid":"m_x"}`},
		{"read", func() (string, int, error) { return f.s.Read(ctx(t), f.page.ID, f.psid, wm) }, `"read":{"watermark":1458668856253}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := len(f.rc.deliveries())
			if _, st, err := c.play(); err != nil || st != 200 {
				t.Fatalf("%d %v", st, err)
			}
			d := f.rc.wait(t, n+1)[n]
			checkSigned(t, d)
			item := string(decodeInbound(t, d.body).Entry[0].Messaging[0])
			prefix := `{"sender":{"id":"` + f.psid + `"},"recipient":{"id":"` + f.page.ID + `"},"timestamp":` + itoa(f.clock.Now().UnixMilli()) + `,`
			if item != prefix+c.want+"}" {
				t.Fatalf("item\n got %s\nwant %s", item, prefix+c.want+"}")
			}
		})
	}
	t.Run("delivery has no timestamp", func(t *testing.T) {
		n := len(f.rc.deliveries())
		if _, _, err := f.s.Delivered(ctx(t), f.page.ID, f.psid, []string{"m_1"}, wm); err != nil {
			t.Fatal(err)
		}
		item := string(decodeInbound(t, f.rc.wait(t, n+1)[n].body).Entry[0].Messaging[0])
		if item != `{"sender":{"id":"`+f.psid+`"},"recipient":{"id":"`+f.page.ID+`"},"delivery":{"mids":["m_1"],"watermark":1458668856253}}` {
			t.Fatalf("delivery %s", item)
		}
	})
	t.Run("human echo", func(t *testing.T) {
		n := len(f.rc.deliveries())
		if _, _, err := f.s.HumanEcho(ctx(t), f.page.ID, f.psid, "from the inbox", WithMID("m_h")); err != nil {
			t.Fatal(err)
		}
		item := string(decodeInbound(t, f.rc.wait(t, n+1)[n].body).Entry[0].Messaging[0])
		want := `{"sender":{"id":"` + f.page.ID + `"},"recipient":{"id":"` + f.psid + `"},"timestamp":` + itoa(f.clock.Now().UnixMilli()) +
			`,"message":{"is_echo":true,"app_id":263902037430900,"mid":"m_h","text":"from the inbox"}}`
		if item != want {
			t.Fatalf("echo\n got %s\nwant %s", item, want)
		}
		if _, _, err := f.s.HumanEcho(ctx(t), f.page.ID, f.psid, "no app", EchoAppID("")); err != nil {
			t.Fatal(err)
		}
		if body := f.rc.wait(t, n+2)[n+1].body; bytes.Contains(body, []byte("app_id")) {
			t.Fatalf("app_id present: %s", body)
		}
	})
}

func TestBatch(t *testing.T) {
	f := newFixture(t)
	p2 := f.s.AddPage(f.user.ID, "Second")
	q2 := f.s.AddPerson(p2.ID, Person{FirstName: "Q"})
	earlier := f.clock.Now().Add(-time.Minute)
	mids, st, err := f.s.Batch(ctx(t),
		TextEvent(f.page.ID, f.psid, "one"),
		TextEvent(f.page.ID, f.psid, "zero", At(earlier)), // out of order
		ReadEvent(p2.ID, q2, time.Time{}),
		TextEvent(p2.ID, q2, "standby", Standby()),
		TextEvent(f.page.ID, f.psid, "back"),
	)
	if err != nil || st != 200 || len(mids) != 5 || mids[0] == "" || mids[2] != "" || mids[0] == mids[1] {
		t.Fatalf("%v %d %v", mids, st, err)
	}
	d := f.rc.wait(t, 1)[0]
	checkSigned(t, d)
	in := decodeInbound(t, d.body)
	if len(in.Entry) != 4 || in.Entry[0].ID != f.page.ID || len(in.Entry[0].Messaging) != 2 ||
		in.Entry[1].ID != p2.ID || len(in.Entry[1].Messaging) != 1 || len(in.Entry[2].Standby) != 1 || in.Entry[3].ID != f.page.ID {
		t.Fatalf("entries %s", d.body)
	}
	if !bytes.Contains(in.Entry[0].Messaging[1], []byte(`"timestamp":`+itoa(earlier.UnixMilli()))) {
		t.Fatalf("At: %s", in.Entry[0].Messaging[1])
	}
	// The standby message opened p2's window.
	if !f.s.LastInbound(p2.ID, q2).Equal(f.clock.Now()) {
		t.Fatalf("last inbound %v", f.s.LastInbound(p2.ID, q2))
	}

	if _, _, err := f.s.Batch(ctx(t), TextEvent("123", f.psid, "x")); err == nil {
		t.Fatal("unknown page accepted")
	}
	if _, _, err := f.s.Batch(ctx(t), TextEvent(f.page.ID, q2, "x")); err == nil {
		t.Fatal("person of another page accepted")
	}
}

func TestDuplicateAndDeliver(t *testing.T) {
	f := newFixture(t)
	if _, err := f.s.Duplicate(ctx(t)); err == nil {
		t.Fatal("duplicate with nothing delivered")
	}
	raw := []byte(`{"object":"page","entry":[{"id":"0","time":1514862760,"changes":[{"field":"messages","value":{"page_id":"1"}}]}]}`)
	if st, err := f.s.Deliver(ctx(t), raw); err != nil || st != 200 {
		t.Fatalf("%d %v", st, err)
	}
	if _, _, err := f.s.SendText(ctx(t), f.page.ID, f.psid, "dup me"); err != nil {
		t.Fatal(err)
	}
	if st, err := f.s.Duplicate(ctx(t)); err != nil || st != 200 {
		t.Fatalf("%d %v", st, err)
	}
	got := f.rc.wait(t, 3)
	if !bytes.Equal(got[0].body, raw) {
		t.Fatalf("Deliver changed the bytes: %s", got[0].body)
	}
	checkSigned(t, got[0])
	if !bytes.Equal(got[1].body, got[2].body) || got[1].header.Get("X-Hub-Signature-256") != got[2].header.Get("X-Hub-Signature-256") {
		t.Fatal("duplicate differs")
	}
}

func TestWebhookRetries(t *testing.T) {
	t.Run("gives up", func(t *testing.T) {
		f := newFixture(t)
		f.rc.setStatus(func(int) int { return 500 })
		_, st, err := f.s.SendText(ctx(t), f.page.ID, f.psid, "anyone?")
		if err != nil || st != 500 {
			t.Fatalf("%d %v", st, err)
		}
		if err := f.s.WaitIdle(ctx(t)); err != nil {
			t.Fatal(err)
		}
		got := f.rc.deliveries()
		if len(got) != 4 {
			t.Fatalf("want 1 attempt + 3 retries, got %d", len(got))
		}
		for _, d := range got[1:] {
			if !bytes.Equal(d.body, got[0].body) {
				t.Fatal("a retry changed the body")
			}
		}
		fails := f.s.Failures()
		if len(fails) != 1 || fails[0].Attempts != 4 || fails[0].Status != 500 || !bytes.Equal(fails[0].Body, got[0].body) {
			t.Fatalf("failures %+v", fails)
		}
	})
	t.Run("recovers", func(t *testing.T) {
		f := newFixture(t)
		f.rc.setStatus(func(n int) int {
			if n < 2 {
				return 503
			}
			return 200
		})
		if _, st, _ := f.s.SendText(ctx(t), f.page.ID, f.psid, "retry me"); st != 503 {
			t.Fatalf("first answer %d", st)
		}
		if err := f.s.WaitIdle(ctx(t)); err != nil {
			t.Fatal(err)
		}
		if n := len(f.rc.deliveries()); n != 3 || len(f.s.Failures()) != 0 {
			t.Fatalf("deliveries %d failures %v", n, f.s.Failures())
		}
	})
	t.Run("echo retried", func(t *testing.T) {
		f := newFixture(t)
		f.openWindow(t)
		f.rc.setStatus(func(n int) int {
			if n == 1 {
				return 500
			}
			return 200
		})
		st, b := f.send(t, text("echo me"))
		wantOK(t, st, b)
		got := f.rc.wait(t, 3)
		if !bytes.Equal(got[1].body, got[2].body) || !bytes.Contains(got[2].body, []byte(`"is_echo":true`)) {
			t.Fatalf("echo retry: %s / %s", got[1].body, got[2].body)
		}
	})
	t.Run("no retries", func(t *testing.T) {
		f := newFixture(t, func(o *Options) { o.NoRetries = true })
		f.rc.setStatus(func(int) int { return 401 })
		if _, st, _ := f.s.SendText(ctx(t), f.page.ID, f.psid, "unsigned?"); st != 401 {
			t.Fatalf("status %d", st)
		}
		if err := f.s.WaitIdle(ctx(t)); err != nil {
			t.Fatal(err)
		}
		if n := len(f.rc.deliveries()); n != 1 || len(f.s.Failures()) != 1 {
			t.Fatalf("deliveries %d failures %d", n, len(f.s.Failures()))
		}
	})
	t.Run("unreachable receiver", func(t *testing.T) {
		f := newFixture(t)
		f.s.SetWebhookURL("http://127.0.0.1:1/webhooks/meta")
		if _, _, err := f.s.SendText(ctx(t), f.page.ID, f.psid, "hello?"); err == nil {
			t.Fatal("no transport error")
		}
		if err := f.s.WaitIdle(ctx(t)); err != nil {
			t.Fatal(err)
		}
		if fails := f.s.Failures(); len(fails) != 1 || fails[0].Err == "" || fails[0].Attempts != 4 {
			t.Fatalf("failures %+v", fails)
		}
	})
	t.Run("no webhook URL", func(t *testing.T) {
		f := newFixture(t, func(o *Options) { o.WebhookURL = "" })
		f.s.SetWebhookURL("")
		if _, _, err := f.s.SendText(ctx(t), f.page.ID, f.psid, "x"); !errors.Is(err, ErrNoWebhookURL) {
			t.Fatalf("err %v", err)
		}
	})
}

func TestEnforceSubscriptions(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.EnforceSubscriptions = true })
	if _, _, err := f.s.SendText(ctx(t), f.page.ID, f.psid, "x"); !errors.Is(err, ErrNotSubscribed) {
		t.Fatalf("err %v", err)
	}
	st, b := f.graph(t, req{method: http.MethodPost, path: "/me/subscribed_apps", token: f.page.Token,
		query: url.Values{"subscribed_fields": {"messages"}}})
	wantOK(t, st, b)
	if _, st, err := f.s.SendText(ctx(t), f.page.ID, f.psid, "x"); err != nil || st != 200 {
		t.Fatalf("%d %v", st, err)
	}
	if _, _, err := f.s.Postback(ctx(t), f.page.ID, f.psid, "t", "p", nil); !errors.Is(err, ErrNotSubscribed) {
		t.Fatalf("postback without messaging_postbacks: %v", err)
	}
	// No message_echoes subscription: no echo.
	st, b = f.send(t, text("not echoed"))
	wantOK(t, st, b)
	if err := f.s.WaitIdle(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if n := len(f.rc.deliveries()); n != 1 {
		t.Fatalf("deliveries %d", n)
	}
}

func TestVerify(t *testing.T) {
	f := newFixture(t)
	hub := http.NewServeMux()
	hub.HandleFunc("GET /hook", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("hub.mode") != "subscribe" || q.Get("hub.verify_token") != "meatyhamhock" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Write([]byte(q.Get("hub.challenge")))
	})
	hub.HandleFunc("GET /wrong", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	srv := newServer(t, hub)
	f.s.SetWebhookURL(srv + "/hook")
	if ok, err := f.s.Verify(ctx(t), "meatyhamhock"); err != nil || !ok {
		t.Fatalf("verify: %v %v", ok, err)
	}
	if ok, err := f.s.Verify(ctx(t), "wrong token"); err != nil || ok {
		t.Fatalf("wrong token verified: %v %v", ok, err)
	}
	f.s.SetWebhookURL(srv + "/wrong")
	if ok, _ := f.s.Verify(ctx(t), "meatyhamhock"); ok {
		t.Fatal("a body that is not the challenge verified")
	}
}

func TestControlEndpoints(t *testing.T) {
	f := newFixture(t)
	post := func(path, body string) (int, map[string]any) {
		resp, err := http.Post(f.srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if st, m := post("/_sim/webhook", `{"url":"`+f.rc.srv.URL+`/other"}`); st != 200 || f.s.WebhookURL() != f.rc.srv.URL+"/other" {
		t.Fatalf("webhook %d %v", st, m)
	}
	if st, m := post("/_sim/messages", `{"page_id":"`+f.page.ID+`","psid":"`+f.psid+`","text":"hello"}`); st != 200 || m["status"] != float64(200) {
		t.Fatalf("messages %d %v", st, m)
	}
	if d := f.rc.wait(t, 1)[0]; !bytes.Contains(d.body, []byte(`"text":"hello"`)) {
		t.Fatalf("delivered %s", d.body)
	}
	resp, err := http.Get(f.srv.URL + "/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	var state stateDoc
	json.NewDecoder(resp.Body).Decode(&state)
	resp.Body.Close()
	if state.AppID != f.s.AppID() || len(state.Pages) != 1 || state.Pages[0].Token != f.page.Token || len(state.Pages[0].People) != 1 {
		t.Fatalf("state %+v", state)
	}
}

func newServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

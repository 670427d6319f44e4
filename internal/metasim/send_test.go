package metasim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSendText(t *testing.T) {
	f := newFixture(t)
	f.openWindow(t)
	st, body := f.send(t, map[string]any{
		"messaging_type": "RESPONSE",
		"message":        map[string]any{"text": "Hello, world!", "metadata": "corr-1"},
	})
	m := wantOK(t, st, body)
	mid, _ := m["message_id"].(string)
	if m["recipient_id"] != f.psid || !strings.HasPrefix(mid, "m_") {
		t.Fatalf("response %s", body)
	}
	sent := f.s.Sent(f.page.ID)
	if len(sent) != 1 {
		t.Fatalf("sent %d", len(sent))
	}
	s := sent[0]
	if s.PSID != f.psid || s.MID != mid || s.MessagingType != "RESPONSE" || s.Metadata != "corr-1" ||
		string(s.Message) != `{"metadata":"corr-1","text":"Hello, world!"}` || !s.At.Equal(f.clock.Now()) {
		t.Fatalf("recorded %+v (%s)", s, s.Message)
	}
	// Every send gets a fresh mid.
	st, body = f.send(t, text("again"))
	if m2 := wantOK(t, st, body); m2["message_id"] == mid {
		t.Fatal("mid reused")
	}
}

// The send path accepts the page-ID form, form-encoded bodies and the
// token in the query string, and records where the token came from.
func TestSendForms(t *testing.T) {
	f := newFixture(t)
	f.openWindow(t)
	st, body := f.graph(t, req{method: http.MethodPost, path: "/" + f.page.ID + "/messages", token: f.page.Token, inQuery: true,
		form: url.Values{
			"recipient":      {`{"id":"` + f.psid + `"}`},
			"messaging_type": {"UPDATE"},
			"message":        {`{"text":"form post"}`},
		}})
	wantOK(t, st, body)
	calls := f.s.Calls()
	last := calls[len(calls)-1]
	if last.TokenSource != "query" || last.Query.Get("access_token") != f.page.Token || !last.ProofOK || last.PageID != f.page.ID {
		t.Fatalf("call %+v", last)
	}
	if got := f.s.Sent(f.page.ID)[0]; got.MessagingType != "UPDATE" || string(got.Message) != `{"text":"form post"}` {
		t.Fatalf("sent %+v", got)
	}
}

// The 24-hour window opens with the person's inbound event and closes 24
// hours later, on the injected clock.
func TestSendWindow(t *testing.T) {
	f := newFixture(t)
	st, body := f.send(t, text("too early"))
	wantError(t, st, body, 400, 10, 2018278)

	f.openWindow(t)
	f.clock.Advance(24*time.Hour - time.Second)
	st, body = f.send(t, text("just in time"))
	wantOK(t, st, body)
	f.clock.Advance(time.Second)
	st, body = f.send(t, text("too late"))
	e := wantError(t, st, body, 400, 10, 2018278)
	if !strings.Contains(e.Message, "outside of allowed window") || e.Type != "OAuthException" {
		t.Fatalf("error %+v", e)
	}
	// Echoes, reads and deliveries do not reopen it; a postback does.
	for _, fn := range []func() (string, int, error){
		func() (string, int, error) { return f.s.HumanEcho(ctx(t), f.page.ID, f.psid, "from the inbox") },
		func() (string, int, error) { return f.s.Read(ctx(t), f.page.ID, f.psid, time.Time{}) },
		func() (string, int, error) { return f.s.Delivered(ctx(t), f.page.ID, f.psid, nil, time.Time{}) },
	} {
		if _, _, err := fn(); err != nil {
			t.Fatal(err)
		}
	}
	st, body = f.send(t, text("still closed"))
	wantError(t, st, body, 400, 10, 2018278)
	if _, _, err := f.s.Postback(ctx(t), f.page.ID, f.psid, "Get Started", "GET_STARTED", nil); err != nil {
		t.Fatal(err)
	}
	st, body = f.send(t, text("open again"))
	wantOK(t, st, body)
}

// Each window opener the brief lists reopens the window.
func TestWindowOpeners(t *testing.T) {
	for name, play := range map[string]func(f *fixture) error{
		"referral": func(f *fixture) error {
			_, _, err := f.s.Referral(ctx(t), f.page.ID, f.psid, Referral{Ref: "summer"})
			return err
		},
		"reaction": func(f *fixture) error {
			_, _, err := f.s.Reaction(ctx(t), f.page.ID, f.psid, "m_x", "❤️")
			return err
		},
		"attachment": func(f *fixture) error {
			_, _, err := f.s.SendAttachment(ctx(t), f.page.ID, f.psid, "image", "https://cdn.test/a.jpg")
			return err
		},
		"raw delivery": func(f *fixture) error {
			_, err := f.s.Deliver(ctx(t), []byte(`{"object":"page","entry":[{"id":"`+f.page.ID+`","time":1,"messaging":[{"sender":{"id":"`+f.psid+`"},"recipient":{"id":"`+f.page.ID+`"},"timestamp":`+fmt.Sprint(f.clock.Now().UnixMilli())+`,"message":{"mid":"m_raw","text":"hi"}}]}]}`))
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			if err := play(f); err != nil {
				t.Fatal(err)
			}
			st, body := f.send(t, text("reply"))
			wantOK(t, st, body)
		})
	}
}

func TestHumanAgentTag(t *testing.T) {
	f := newFixture(t)
	f.openWindow(t)
	tagged := func() (int, []byte) {
		return f.send(t, map[string]any{"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT", "message": map[string]any{"text": "agent"}})
	}
	f.clock.Advance(3 * 24 * time.Hour)
	st, body := f.send(t, text("window closed"))
	wantError(t, st, body, 400, 10, 2018278)
	st, body = tagged()
	wantOK(t, st, body)
	if s := f.s.Sent(f.page.ID); s[len(s)-1].Tag != "HUMAN_AGENT" || s[len(s)-1].MessagingType != "MESSAGE_TAG" {
		t.Fatalf("recorded %+v", s[len(s)-1])
	}
	f.clock.Advance(4*24*time.Hour - time.Second)
	st, body = tagged()
	wantOK(t, st, body)
	f.clock.Advance(time.Second)
	st, body = tagged()
	wantError(t, st, body, 400, 10, 2018278)
}

func TestMessagingTypeAndTags(t *testing.T) {
	f := newFixture(t)
	f.openWindow(t)
	msg := map[string]any{"text": "hi"}
	for name, body := range map[string]map[string]any{
		"missing messaging_type":      {"message": msg},
		"unknown messaging_type":      {"messaging_type": "NON_PROMOTIONAL_SUBSCRIPTION", "message": msg},
		"MESSAGE_TAG without tag":     {"messaging_type": "MESSAGE_TAG", "message": msg},
		"tag with RESPONSE":           {"messaging_type": "RESPONSE", "tag": "HUMAN_AGENT", "message": msg},
		"unknown tag":                 {"messaging_type": "MESSAGE_TAG", "tag": "SHIPPING_UPDATE", "message": msg},
		"CONFIRMED_EVENT_UPDATE":      {"messaging_type": "MESSAGE_TAG", "tag": "CONFIRMED_EVENT_UPDATE", "message": msg},
		"ACCOUNT_UPDATE":              {"messaging_type": "MESSAGE_TAG", "tag": "ACCOUNT_UPDATE", "message": msg},
		"POST_PURCHASE_UPDATE":        {"messaging_type": "MESSAGE_TAG", "tag": "POST_PURCHASE_UPDATE", "message": msg},
		"top-level metadata":          {"messaging_type": "RESPONSE", "message": msg, "metadata": "x"},
		"unknown parameter":           {"messaging_type": "RESPONSE", "message": msg, "messaging_product": "whatsapp"},
		"message and sender_action":   {"messaging_type": "RESPONSE", "message": msg, "sender_action": "typing_on"},
		"neither":                     {"messaging_type": "RESPONSE"},
		"bad notification_type":       {"messaging_type": "RESPONSE", "message": msg, "notification_type": "LOUD"},
		"persona":                     {"messaging_type": "RESPONSE", "message": msg, "persona_id": "123"},
		"unknown message field":       {"messaging_type": "RESPONSE", "message": map[string]any{"text": "hi", "sticker_id": 1}},
		"text and attachment":         {"messaging_type": "RESPONSE", "message": map[string]any{"text": "hi", "attachment": map[string]any{"type": "image", "payload": map[string]any{"url": "https://x.test/a.png"}}}},
		"empty text":                  {"messaging_type": "RESPONSE", "message": map[string]any{"text": ""}},
		"unknown reply_to":            {"messaging_type": "RESPONSE", "message": msg, "reply_to": map[string]any{"mid": "m_nope"}},
		"recipient user_ref":          {"messaging_type": "RESPONSE", "message": msg, "recipient": map[string]any{"user_ref": "abc"}},
		"recipient without id":        {"messaging_type": "RESPONSE", "message": msg, "recipient": map[string]any{}},
		"unsupported template":        {"messaging_type": "RESPONSE", "message": map[string]any{"attachment": map[string]any{"type": "template", "payload": map[string]any{"template_type": "receipt"}}}},
		"unsupported attachment":      {"messaging_type": "RESPONSE", "message": map[string]any{"attachment": map[string]any{"type": "sticker", "payload": map[string]any{"url": "https://x.test/a.png"}}}},
		"url and attachment_id":       {"messaging_type": "RESPONSE", "message": map[string]any{"attachment": map[string]any{"type": "image", "payload": map[string]any{"url": "https://x.test/a.png", "attachment_id": "1"}}}},
		"unknown attachment_id":       {"messaging_type": "RESPONSE", "message": map[string]any{"attachment": map[string]any{"type": "image", "payload": map[string]any{"attachment_id": "999"}}}},
		"relative url":                {"messaging_type": "RESPONSE", "message": map[string]any{"attachment": map[string]any{"type": "image", "payload": map[string]any{"url": "/a.png"}}}},
		"location quick reply":        {"messaging_type": "RESPONSE", "message": map[string]any{"text": "hi", "quick_replies": []any{map[string]any{"content_type": "location"}}}},
		"quick reply without payload": {"messaging_type": "RESPONSE", "message": map[string]any{"text": "hi", "quick_replies": []any{map[string]any{"content_type": "text", "title": "A"}}}},
		"bad sender_action":           {"sender_action": "react"},
	} {
		t.Run(name, func(t *testing.T) {
			st, b := f.send(t, body)
			e := wantError(t, st, b, 400, 100, 0)
			if !strings.HasPrefix(e.Message, "(#100)") {
				t.Errorf("message %q", e.Message)
			}
		})
	}
	if n := len(f.s.Sent(f.page.ID)); n != 0 {
		t.Fatalf("%d refused messages were recorded as sent", n)
	}
}

// Limits at their boundary: the last allowed value passes, one more fails.
// Multi-byte characters count as one character each.
func TestSendLimits(t *testing.T) {
	f := newFixture(t)
	f.openWindow(t)
	qrs := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{"content_type": "text", "title": fmt.Sprint("Q", i), "payload": "P"}
		}
		return out
	}
	qr := func(title, payload string) map[string]any {
		return map[string]any{"text": "pick", "quick_replies": []any{map[string]any{"content_type": "text", "title": title, "payload": payload}}}
	}
	button := func(title string) map[string]any {
		return map[string]any{"type": "postback", "title": title, "payload": "P"}
	}
	buttons := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = button(fmt.Sprint("B", i))
		}
		return out
	}
	tpl := func(payload map[string]any) map[string]any {
		return map[string]any{"attachment": map[string]any{"type": "template", "payload": payload}}
	}
	btnTpl := func(text string, bs []any) map[string]any {
		return tpl(map[string]any{"template_type": "button", "text": text, "buttons": bs})
	}
	element := func(title, subtitle string, bs []any) map[string]any {
		return map[string]any{"title": title, "subtitle": subtitle, "buttons": bs}
	}
	elements := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = element(fmt.Sprint("E", i), "", nil)
		}
		return out
	}
	generic := func(els []any) map[string]any {
		return tpl(map[string]any{"template_type": "generic", "elements": els})
	}
	km := "ខ" // three bytes in UTF-8, one character
	for _, c := range []struct {
		name      string
		ok, wrong map[string]any
	}{
		{"text 2000 characters", map[string]any{"text": strings.Repeat(km, 2000)}, map[string]any{"text": strings.Repeat(km, 2001)}},
		{"13 quick replies", map[string]any{"text": "pick", "quick_replies": qrs(13)}, map[string]any{"text": "pick", "quick_replies": qrs(14)}},
		{"quick reply title 20", qr(strings.Repeat("é", 20), "P"), qr(strings.Repeat("é", 21), "P")},
		{"quick reply payload 1000", qr("T", strings.Repeat("p", 1000)), qr("T", strings.Repeat("p", 1001))},
		{"button template text 640", btnTpl(strings.Repeat(km, 640), buttons(1)), btnTpl(strings.Repeat(km, 641), buttons(1))},
		{"button template 3 buttons", btnTpl("t", buttons(3)), btnTpl("t", buttons(4))},
		{"button template needs a button", btnTpl("t", buttons(1)), btnTpl("t", buttons(0))},
		{"button title 20", btnTpl("t", []any{button(strings.Repeat(km, 20))}), btnTpl("t", []any{button(strings.Repeat(km, 21))})},
		{"generic 10 elements", generic(elements(10)), generic(elements(11))},
		{"generic title 80", generic([]any{element(strings.Repeat(km, 80), "", nil)}), generic([]any{element(strings.Repeat(km, 81), "", nil)})},
		{"generic subtitle 80", generic([]any{element("t", strings.Repeat(km, 80), nil)}), generic([]any{element("t", strings.Repeat(km, 81), nil)})},
		{"generic 3 buttons", generic([]any{element("t", "", buttons(3))}), generic([]any{element("t", "", buttons(4))})},
		{"metadata under 1000", map[string]any{"text": "t", "metadata": strings.Repeat(km, 999)}, map[string]any{"text": "t", "metadata": strings.Repeat(km, 1000)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, b := f.send(t, map[string]any{"messaging_type": "RESPONSE", "message": c.ok})
			wantOK(t, st, b)
			st, b = f.send(t, map[string]any{"messaging_type": "RESPONSE", "message": c.wrong})
			wantError(t, st, b, 400, 100, 0)
		})
	}
}

func TestSendAttachments(t *testing.T) {
	f := newFixture(t)
	f.openWindow(t)
	media := func(payload map[string]any) map[string]any {
		return map[string]any{"messaging_type": "RESPONSE", "message": map[string]any{"attachment": map[string]any{"type": "image", "payload": payload}}}
	}
	// By URL, reusable: the response carries an attachment_id usable later.
	st, b := f.send(t, media(map[string]any{"url": "https://cdn.test/a.jpg", "is_reusable": true}))
	m := wantOK(t, st, b)
	id, _ := m["attachment_id"].(string)
	if id == "" {
		t.Fatalf("no attachment_id in %s", b)
	}
	st, b = f.send(t, media(map[string]any{"attachment_id": id}))
	wantOK(t, st, b)
	// Uploaded through message_attachments.
	st, b = f.graph(t, req{method: http.MethodPost, path: "/me/message_attachments", token: f.page.Token,
		json: map[string]any{"message": map[string]any{"attachment": map[string]any{"type": "video", "payload": map[string]any{"url": "https://cdn.test/v.mp4", "is_reusable": true}}}}})
	up := wantOK(t, st, b)
	st, b = f.send(t, media(map[string]any{"attachment_id": up["attachment_id"]}))
	wantOK(t, st, b)
	// Another page's attachment ID is unknown here.
	other := f.s.AddPage(f.user.ID, "Other")
	otherPSID := f.s.AddPerson(other.ID, Person{FirstName: "O"})
	if _, _, err := f.s.SendText(ctx(t), other.ID, otherPSID, "hi"); err != nil {
		t.Fatal(err)
	}
	st, b = f.graph(t, req{method: http.MethodPost, path: "/me/messages", token: other.Token, json: map[string]any{
		"recipient": map[string]any{"id": otherPSID}, "messaging_type": "RESPONSE",
		"message": map[string]any{"attachment": map[string]any{"type": "image", "payload": map[string]any{"attachment_id": id}}}}})
	wantError(t, st, b, 400, 100, 0)
}

func TestSenderActions(t *testing.T) {
	f := newFixture(t)
	st, b := f.send(t, map[string]any{"sender_action": "typing_on"})
	wantError(t, st, b, 400, 10, 2018278)
	f.openWindow(t)
	for _, a := range []string{"typing_on", "typing_off", "mark_seen"} {
		st, b := f.send(t, map[string]any{"sender_action": a})
		m := wantOK(t, st, b)
		if _, has := m["message_id"]; has || m["recipient_id"] != f.psid {
			t.Fatalf("%s: %s", a, b)
		}
	}
	if got := f.s.Actions(f.page.ID); len(got) != 3 || got[2].Action != "mark_seen" {
		t.Fatalf("actions %+v", got)
	}
	if len(f.s.Sent(f.page.ID)) != 0 {
		t.Fatal("sender actions recorded as messages")
	}
}

func TestSendRecipientAndPageRules(t *testing.T) {
	f := newFixture(t)
	f.openWindow(t)
	other := f.s.AddPage(f.user.ID, "Other page")
	otherPSID := f.s.AddPerson(other.ID, Person{FirstName: "Olga"})

	t.Run("unknown PSID", func(t *testing.T) {
		st, b := f.send(t, map[string]any{"recipient": map[string]any{"id": "1234567890123456"}, "messaging_type": "RESPONSE", "message": map[string]any{"text": "x"}})
		e := wantError(t, st, b, 400, 100, 2018001)
		if e.Message != "(#100) No matching user found" {
			t.Errorf("message %q", e.Message)
		}
	})
	t.Run("PSID of another page", func(t *testing.T) {
		st, b := f.send(t, map[string]any{"recipient": map[string]any{"id": otherPSID}, "messaging_type": "RESPONSE", "message": map[string]any{"text": "x"}})
		wantError(t, st, b, 400, 100, 2018001)
	})
	t.Run("token of another page", func(t *testing.T) {
		st, b := f.graph(t, req{method: http.MethodPost, path: "/" + f.page.ID + "/messages", token: other.Token, json: text("x")})
		wantError(t, st, b, 400, 100, 33)
	})
	t.Run("user token", func(t *testing.T) {
		st, b := f.graph(t, req{method: http.MethodPost, path: "/" + f.page.ID + "/messages", token: f.s.UserToken(f.user.ID), json: text("x")})
		wantError(t, st, b, 403, 210, 0)
	})
	t.Run("unreachable person", func(t *testing.T) {
		f.s.SetUnreachable(f.page.ID, f.psid, true)
		defer f.s.SetUnreachable(f.page.ID, f.psid, false)
		st, b := f.send(t, text("x"))
		e := wantError(t, st, b, 400, 551, 1545041)
		if !strings.Contains(e.Message, "isn't available") {
			t.Errorf("message %q", e.Message)
		}
	})
	t.Run("reply_to a message of the thread", func(t *testing.T) {
		mid, _, err := f.s.SendText(ctx(t), f.page.ID, f.psid, "question?")
		if err != nil {
			t.Fatal(err)
		}
		body := text("answer")
		body["reply_to"] = map[string]any{"mid": mid}
		st, b := f.send(t, body)
		wantOK(t, st, b)
		if s := f.s.Sent(f.page.ID); s[len(s)-1].ReplyTo != mid {
			t.Fatalf("reply_to not recorded: %+v", s[len(s)-1])
		}
	})
}

// Every send is echoed to the webhook: from the page, is_echo, the app ID
// as a JSON number, the metadata and the same mid.
func TestSendEcho(t *testing.T) {
	f := newFixture(t)
	f.openWindow(t) // delivery 0
	st, b := f.send(t, map[string]any{"messaging_type": "RESPONSE", "message": map[string]any{"text": "Café / crème", "metadata": "corr-42"}})
	mid := wantOK(t, st, b)["message_id"].(string)
	got := f.rc.wait(t, 2)[1]
	if !strings.Contains(string(got.body), `"app_id":1517776481860111,`) {
		t.Fatalf("app_id is not a JSON number: %s", got.body)
	}
	if !strings.Contains(string(got.body), `Caf\u00e9 \/ cr\u00e8me`) {
		t.Fatalf("echo not in Meta's escaped form: %s", got.body)
	}
	if got.header.Get("X-Hub-Signature-256") != Signature256("test_app_secret", got.body) {
		t.Fatal("echo signature")
	}
	var env struct {
		Entry []struct {
			ID        string `json:"id"`
			Messaging []struct {
				Sender, Recipient struct{ ID string }
				Message           struct {
					IsEcho   bool        `json:"is_echo"`
					AppID    json.Number `json:"app_id"`
					Metadata string      `json:"metadata"`
					MID      string      `json:"mid"`
					Text     string      `json:"text"`
				} `json:"message"`
			} `json:"messaging"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(got.body, &env); err != nil {
		t.Fatal(err)
	}
	it := env.Entry[0].Messaging[0]
	if env.Entry[0].ID != f.page.ID || it.Sender.ID != f.page.ID || it.Recipient.ID != f.psid || !it.Message.IsEcho ||
		it.Message.AppID.String() != "1517776481860111" || it.Message.Metadata != "corr-42" || it.Message.MID != mid || it.Message.Text != "Café / crème" {
		t.Fatalf("echo %+v", it)
	}
	// A template is echoed as a template attachment.
	st, b = f.send(t, map[string]any{"messaging_type": "RESPONSE", "message": map[string]any{"attachment": map[string]any{"type": "template",
		"payload": map[string]any{"template_type": "button", "text": "Pick", "buttons": []any{map[string]any{"type": "web_url", "title": "Shop", "url": "https://shop.test/"}}}}}})
	wantOK(t, st, b)
	if echo := f.rc.wait(t, 3)[2]; !strings.Contains(string(echo.body), `"attachments":[{"type":"template","payload":{"buttons":[{"title":"Shop","type":"web_url","url":"https:\/\/shop.test\/"}],"template_type":"button","text":"Pick"}}]`) {
		t.Fatalf("template echo: %s", echo.body)
	}
}

func TestNoEchoes(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.NoEchoes = true })
	f.openWindow(t)
	st, b := f.send(t, text("quiet"))
	wantOK(t, st, b)
	if err := f.s.WaitIdle(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if n := len(f.rc.deliveries()); n != 1 {
		t.Fatalf("want only the inbound delivery, got %d", n)
	}
}

func TestWaitSentAndOnSend(t *testing.T) {
	got := make(chan Sent, 4)
	f := newFixture(t, func(o *Options) { o.OnSend = func(s Sent) { got <- s } })
	f.openWindow(t)
	done := make(chan []Sent, 1)
	go func() {
		sent, err := f.s.WaitSent(ctx(t), f.page.ID, 2)
		if err != nil {
			t.Error(err)
		}
		done <- sent
	}()
	for _, m := range []string{"one", "two"} {
		st, b := f.send(t, text(m))
		wantOK(t, st, b)
	}
	if sent := <-done; len(sent) != 2 || string(sent[1].Message) != `{"text":"two"}` {
		t.Fatalf("WaitSent %+v", sent)
	}
	if s := <-got; string(s.Message) != `{"text":"one"}` || s.PageID != f.page.ID {
		t.Fatalf("OnSend %+v", s)
	}
	// Another page's sends do not count; a done context ends the wait.
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if sent, err := f.s.WaitSent(cancelled, "404", 1); err == nil || len(sent) != 0 {
		t.Fatalf("WaitSent on an idle page: %v %v", sent, err)
	}
	if all, err := f.s.WaitSent(ctx(t), "", 2); err != nil || len(all) != 2 {
		t.Fatalf("WaitSent any page: %v %v", all, err)
	}
}

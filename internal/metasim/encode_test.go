package metasim

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"
)

// Reference §1.6 vector 1: the simulator's own text event, with the
// reference's IDs, reproduces Meta's bytes and both signatures.
func TestMessengerVector(t *testing.T) {
	const want = `{"object":"page","entry":[{"id":"PAGE_ID","time":1458692752478,"messaging":[{"sender":{"id":"PSID"},"recipient":{"id":"PAGE_ID"},"timestamp":1458692752478,"message":{"mid":"mid.1457764197618:41d102a3e1ae206a38","text":"hello, world!"}}]}]}`
	ev := TextEvent("PAGE_ID", "PSID", "hello, world!", WithMID("mid.1457764197618:41d102a3e1ae206a38"))
	got, err := encodeBatch([]Event{ev}, time.UnixMilli(1458692752478))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want || len(got) != 239 {
		t.Fatalf("body:\n got %s\nwant %s", got, want)
	}
	if s := Signature256("test_app_secret", got); s != "sha256=eec1906d2e5dc1a43a1014f196b421cf9d7b6696ead890eadf906dbbfe03f791" {
		t.Errorf("sha256: %s", s)
	}
	if s := Signature1("test_app_secret", got); s != "sha1=0600f7e1796ae99ceee406bc24742ed367d67a2a" {
		t.Errorf("sha1: %s", s)
	}
}

// The WhatsApp envelope of §1.6 vector 2, as ordered structs.
type waEnvelope struct {
	Object string    `json:"object"`
	Entry  []waEntry `json:"entry"`
}
type waEntry struct {
	ID      string     `json:"id"`
	Changes []waChange `json:"changes"`
}
type waChange struct {
	Value waValue `json:"value"`
	Field string  `json:"field"`
}
type waValue struct {
	MessagingProduct string      `json:"messaging_product"`
	Metadata         waMetadata  `json:"metadata"`
	Contacts         []waContact `json:"contacts"`
	Messages         []waMessage `json:"messages"`
}
type waMetadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}
type waContact struct {
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
	WaID string `json:"wa_id"`
}
type waMessage struct {
	From      string `json:"from"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	Text      struct {
		Body string `json:"body"`
	} `json:"text"`
}

// Reference §1.6 vector 2: the Khmer text in Meta's escaped form and in
// raw UTF-8, byte for byte, with their different signatures.
func TestKhmerVector(t *testing.T) {
	const escaped = `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sok Dara"},"wa_id":"85512345678"}],"messages":[{"from":"85512345678","id":"wamid.TEST_KHMER_1","timestamp":"1749416383","type":"text","text":{"body":"\u179f\u17bd\u179f\u17d2\u178f\u17b8 \u1781\u17d2\u1789\u17bb\u17c6\u1785\u1784\u17cb\u1791\u17b7\u1789"}}]},"field":"messages"}]}]}`
	const khmer = "សួស្តី ខ្ញុំចង់ទិញ"
	c := waContact{WaID: "85512345678"}
	c.Profile.Name = "Sok Dara"
	m := waMessage{From: "85512345678", ID: "wamid.TEST_KHMER_1", Timestamp: "1749416383", Type: "text"}
	m.Text.Body = khmer
	env := waEnvelope{Object: "whatsapp_business_account", Entry: []waEntry{{ID: "102290129340398", Changes: []waChange{{
		Field: "messages",
		Value: waValue{MessagingProduct: "whatsapp", Metadata: waMetadata{"15550783881", "106540352242922"},
			Contacts: []waContact{c}, Messages: []waMessage{m}},
	}}}}}

	meta, err := MetaJSON(env)
	if err != nil {
		t.Fatal(err)
	}
	if string(meta) != escaped || len(meta) != 523 {
		t.Fatalf("escaped form:\n got %s\nwant %s", meta, escaped)
	}
	if s := Signature256("test_app_secret", meta); s != "sha256=f39d473327941e3373acc1692f241ce36018d54f36c46be3e17e3d7605141748" {
		t.Errorf("escaped signature: %s", s)
	}
	raw, err := rawJSON(env)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 472 || !utf8.Valid(raw) {
		t.Fatalf("raw form: %d bytes", len(raw))
	}
	if s := Signature256("test_app_secret", raw); s != "sha256=623c27181efee6bac08d5ec079640250663e78c03b090d4f1bf435e1a4deca58" {
		t.Errorf("raw signature: %s", s)
	}
	// EscapeJSON turns the raw bytes into exactly Meta's bytes.
	if got := EscapeJSON(raw); !bytes.Equal(got, meta) {
		t.Errorf("EscapeJSON(raw):\n got %s\nwant %s", got, meta)
	}
	// Both decode to the same 18 runes.
	for _, b := range [][]byte{meta, raw} {
		var back waEnvelope
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if body := back.Entry[0].Changes[0].Value.Messages[0].Text.Body; body != khmer || utf8.RuneCountInString(body) != 18 {
			t.Errorf("decoded body %q", body)
		}
	}
}

// Reference §1.6 vector 3: legacy SHA-1 signatures.
func TestSHA1Vectors(t *testing.T) {
	if s := Signature1("FAKE_SECRET", []byte("{}")); s != "sha1=1c99183cb7c44ea27fb834746086b65b89800db8" {
		t.Errorf("sha1 of {}: %s", s)
	}
}

// Reference §2.9: appsecret_proof vectors.
func TestAppSecretProofVectors(t *testing.T) {
	for _, v := range []struct{ secret, token, want string }{
		{"foo_app_secret", "foo_access_token", "12f5dcbb7557d24b1d37fd180c45991c5999f325ece0af331c00a85d762f2b95"},
		{"shhhhh!is.my.secret", "foo_token", "796ba0d8a6b339e476a7b166a9e8ac0a395f7de736dc37de5f2f4397f5854eb8"},
		{"1WDVGY78", "1234567890", "4894f81b47c53ccf240a1130d119db2c69833eac9be09adeebc8e7226fb73e73"},
		{"test_app_secret", "EAAB-test-page-token", "4db4f3d483a2a4be9b48f6a2df96de5a64c4774862d954593d12c1a5d3ba1e85"},
	} {
		if got := AppSecretProof(v.secret, v.token); got != v.want {
			t.Errorf("AppSecretProof(%q, %q) = %s, want %s", v.secret, v.token, got, v.want)
		}
	}
}

func TestEscapeJSON(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"u":"https://x.test/a"}`, `{"u":"https:\/\/x.test\/a"}`},
		{`{"t":"äöå"}`, `{"t":"\u00e4\u00f6\u00e5"}`},
		{`{"t":"😀"}`, `{"t":"\ud83d\ude00"}`},
		{`{"t":"a\/b"}`, `{"t":"a\/b"}`},                  // already escaped: kept
		{`{"t":"back\\/slash"}`, `{"t":"back\\\/slash"}`}, // escaped backslash, then a slash
		{`{"t":"\u00e9"}`, `{"t":"\u00e9"}`},
		{`{"t":"<b>&"}`, `{"t":"<b>&"}`}, // no HTML escaping
	} {
		if got := string(EscapeJSON([]byte(c.in))); got != c.want {
			t.Errorf("EscapeJSON(%s) = %s, want %s", c.in, got, c.want)
		}
		var a, b any
		if json.Unmarshal([]byte(c.in), &a) != nil || json.Unmarshal(EscapeJSON([]byte(c.in)), &b) != nil {
			t.Fatalf("invalid JSON for %s", c.in)
		}
		if ja, _ := json.Marshal(a); string(ja) != func() string { jb, _ := json.Marshal(b); return string(jb) }() {
			t.Errorf("EscapeJSON changed the value of %s", c.in)
		}
	}
}

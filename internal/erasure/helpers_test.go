package erasure_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/erasure"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

// t0 is the fixtures' time.
var t0 = fixture.Epoch

// env is one test's database, keyring and erasure service.
type env struct {
	d      *db.DB
	kr     *keyring.Keyring
	master *keyring.Master
	s      *erasure.Service
}

func newEnv(t *testing.T, d *db.DB) *env {
	t.Helper()
	now := func() time.Time { return t0.Add(time.Hour) }
	kr, m := fixture.Keyring(t, d, now)
	return &env{d: d, kr: kr, master: m, s: erasure.New(d, kr, erasure.Options{Now: now, Master: m})}
}

// space is a workspace with what contacts need: a user and member, two
// channels, a field, a phone field, a tag and a pipeline.
type space struct {
	ws, user, ch1, ch2, field, phone, tag, pipeline, stage string
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// canaryText is a value no database holds by chance.
func canaryText(label string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return "canary-" + label + "-" + hex.EncodeToString(b)
}

func exec(t *testing.T, idb bun.IDB, q string, args ...any) {
	t.Helper()
	if _, err := idb.NewRaw(q, args...).Exec(context.Background()); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (e *env) space(t *testing.T) space {
	t.Helper()
	s := space{ws: fixture.Workspace(t, e.d, e.kr), user: newID(), ch1: newID(), ch2: newID(), field: newID(), phone: newID(),
		tag: newID(), pipeline: newID(), stage: newID()}
	w := e.d.W
	exec(t, w, `INSERT INTO users (id, email, email_key, password_hash, age_confirmed_at, password_changed_at, created_at, updated_at)
		VALUES (?, ?, ?, 'v1$x', ?, ?, ?, ?)`, s.user, s.user+"@example.com", s.user+"@example.com", t0, t0, t0, t0)
	exec(t, w, `INSERT INTO members (workspace_id, user_id, role, created_at, updated_at) VALUES (?, ?, 'owner', ?, ?)`, s.ws, s.user, t0, t0)
	for i, ch := range []string{s.ch1, s.ch2} {
		exec(t, w, `INSERT INTO channels (id, workspace_id, type, external_id, name, status, created_at, updated_at)
			VALUES (?, ?, 'messenger', ?, 'Page', 'active', ?, ?)`, ch, s.ws, fmt.Sprintf("page-%d-%s", i, ch), t0, t0)
	}
	exec(t, w, `INSERT INTO contact_fields (id, workspace_id, key, label, type, created_at, updated_at) VALUES (?, ?, 'email', 'E-mail', 'email', ?, ?)`, s.field, s.ws, t0, t0)
	exec(t, w, `INSERT INTO contact_fields (id, workspace_id, key, label, type, created_at, updated_at) VALUES (?, ?, 'phone', 'Phone', 'phone', ?, ?)`, s.phone, s.ws, t0, t0)
	exec(t, w, `INSERT INTO tags (id, workspace_id, name, name_key, created_at, updated_at) VALUES (?, ?, 'VIP', 'vip', ?, ?)`, s.tag, s.ws, t0, t0)
	exec(t, w, `INSERT INTO pipelines (id, workspace_id, name, name_key, position, is_default, created_at, updated_at) VALUES (?, ?, 'Sales', 'sales', 0, ?, ?, ?)`,
		s.pipeline, s.ws, true, t0, t0)
	exec(t, w, `INSERT INTO pipeline_stages (id, workspace_id, pipeline_id, name, name_key, position, created_at, updated_at) VALUES (?, ?, ?, 'New', 'new', 0, ?, ?)`,
		s.stage, s.ws, s.pipeline, t0, t0)
	return s
}

// person is a contact planted in every table that keeps a contact's rows,
// with its canaries: plaintext ones (its PSIDs) and sealed ones, and the
// envelopes sealed for it (to check they stop opening).
type person struct {
	id, conv, msg, psid, psid2 string
	canaries                   []string
	sealed                     []sealedValue
}

type sealedValue struct {
	aad keyring.AAD
	env []byte
	pt  string
}

func (e *env) seal(t *testing.T, p *person, ws, table, column, row, text string) []byte {
	t.Helper()
	aad := keyring.AAD{Workspace: ws, Table: table, Column: column, Row: row}
	b, err := e.kr.SealContact(context.Background(), aad, p.id, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	p.sealed = append(p.sealed, sealedValue{aad: aad, env: b, pt: text})
	p.canaries = append(p.canaries, text)
	return b
}

func randomDocID() int64 {
	n, _ := rand.Int(rand.Reader, big.NewInt(1<<40))
	return n.Int64() + 1
}

// plant creates a contact with rows in every table a contact has rows in.
func (e *env) plant(t *testing.T, s space, label string) person {
	t.Helper()
	p := person{id: newID(), conv: newID(), msg: newID(), psid: canaryText(label + "-psid"), psid2: canaryText(label + "-psid2")}
	p.canaries = append(p.canaries, p.psid, p.psid2)
	w := e.d.W
	first := e.seal(t, &p, s.ws, "contacts", "first_name", p.id, canaryText(label+"-name"))
	exec(t, w, `INSERT INTO contacts (id, workspace_id, channel_id, external_id, first_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		p.id, s.ws, s.ch1, p.psid, first, t0, t0)
	exec(t, w, `INSERT INTO contact_identities (workspace_id, contact_id, channel_id, external_id, created_at) VALUES (?, ?, ?, ?, ?)`,
		s.ws, p.id, s.ch2, p.psid2, t0)
	exec(t, w, `INSERT INTO conversations (id, workspace_id, channel_id, contact_id, last_activity_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		p.conv, s.ws, s.ch1, p.id, t0, t0, t0)
	// A redelivery key of an event without a message ID (a reaction).
	exec(t, w, `INSERT INTO inbound_keys (channel_id, key, contact_id, created_at) VALUES (?, ?, ?, ?)`, s.ch1, "key-"+newID(), p.id, t0)
	body := e.seal(t, &p, s.ws, "messages", "body", p.msg, canaryText(label+"-message"))
	exec(t, w, `INSERT INTO messages (id, workspace_id, channel_id, conversation_id, contact_id, direction, kind, body, sender_type, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'in', 'text', ?, 'contact', 'received', ?, ?)`, p.msg, s.ws, s.ch1, p.conv, p.id, body, t0, t0)
	event := newID()
	note := e.seal(t, &p, s.ws, "conversation_events", "note", event, canaryText(label+"-note"))
	exec(t, w, `INSERT INTO conversation_events (id, workspace_id, conversation_id, contact_id, kind, actor, note, created_at) VALUES (?, ?, ?, ?, 'note', ?, ?, ?)`,
		event, s.ws, p.conv, p.id, "user:"+s.user, note, t0)
	exec(t, w, `INSERT INTO conversation_mentions (workspace_id, event_id, user_id, conversation_id, created_at) VALUES (?, ?, ?, ?, ?)`,
		s.ws, event, s.user, p.conv, t0)
	vars := e.seal(t, &p, s.ws, "flow_sessions", "vars", p.conv, canaryText(label+"-vars"))
	exec(t, w, `INSERT INTO flow_sessions (conversation_id, workspace_id, contact_id, vars, updated_at) VALUES (?, ?, ?, ?, ?)`,
		p.conv, s.ws, p.id, vars, t0)
	act := newID()
	data := e.seal(t, &p, s.ws, "contact_activity", "data", act, canaryText(label+"-activity"))
	exec(t, w, `INSERT INTO contact_activity (id, workspace_id, contact_id, kind, actor, data, created_at) VALUES (?, ?, ?, 'note', 'system', ?, ?)`,
		act, s.ws, p.id, data, t0)
	exec(t, w, `INSERT INTO pipeline_cards (workspace_id, pipeline_id, contact_id, stage_id, position, moved_at, moved_by) VALUES (?, ?, ?, ?, 1, ?, 'system')`,
		s.ws, s.pipeline, p.id, s.stage, t0)
	exec(t, w, `INSERT INTO contact_tags (contact_id, tag_id, workspace_id, created_at) VALUES (?, ?, ?, ?)`, p.id, s.tag, s.ws, t0)
	value := e.seal(t, &p, s.ws, "contact_field_values", "value", p.id+"/"+s.field, canaryText(label+"-email"))
	exec(t, w, `INSERT INTO contact_field_values (contact_id, field_id, workspace_id, value, updated_at) VALUES (?, ?, ?, ?, ?)`,
		p.id, s.field, s.ws, value, t0)
	digest := []byte(e.kr.BlindIndex(s.ws, p.psid))
	exec(t, w, `INSERT INTO contact_phones (workspace_id, contact_id, field_id, digest) VALUES (?, ?, ?, ?)`, s.ws, p.id, s.phone, digest)
	exec(t, w, `INSERT INTO call_log_seen (workspace_id, contact_id, call_key, created_at) VALUES (?, ?, ?, ?)`, s.ws, p.id, digest, t0)
	profileDoc, msgDoc := randomDocID(), randomDocID()
	exec(t, w, `INSERT INTO search_docs (id, workspace_id, contact_id) VALUES (?, ?, ?)`, profileDoc, s.ws, p.id)
	exec(t, w, `INSERT INTO search_docs (id, workspace_id, contact_id, conversation_id, message_id) VALUES (?, ?, ?, ?, ?)`, msgDoc, s.ws, p.id, p.conv, p.msg)
	exec(t, w, `INSERT INTO search_grams (gram, doc) VALUES (1, ?), (2, ?)`, profileDoc, msgDoc)
	exec(t, w, `INSERT INTO search_pending (workspace_id, contact_id, queued_at) VALUES (?, ?, ?)`, s.ws, p.id, t0)
	for _, j := range []struct {
		kind    string
		payload map[string]any
		unique  string
	}{
		{"inbox.profile", map[string]any{"ws": s.ws, "id": p.id}, "inbox.profile:" + p.id},
		{"inbox.send", map[string]any{"ws": s.ws, "id": p.msg}, ""},
		{"flow.resume", map[string]any{"ws": s.ws, "conv": p.conv, "token": 3}, ""},
	} {
		b, _ := json.Marshal(j.payload)
		// The profile job names the contact only; the others its
		// conversation, as their ordering key too.
		var unique, ordering any
		if j.unique != "" {
			unique = j.unique
		} else {
			ordering = p.conv
		}
		exec(t, w, `INSERT INTO jobs (kind, payload, ordering_key, unique_key, state, run_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`,
			j.kind, b, ordering, unique, t0, t0, t0)
	}
	return p
}

// delivery stores a raw webhook delivery, sealed as package webhook seals
// it, with one messaging event per PSID, and returns its ID.
func (e *env) delivery(t *testing.T, state string, psids ...string) string {
	t.Helper()
	var events []map[string]any
	for _, p := range psids {
		events = append(events, map[string]any{"sender": map[string]string{"id": p}, "recipient": map[string]string{"id": "page"},
			"timestamp": 1732000000000, "message": map[string]string{"mid": "m_" + p, "text": "hello from " + p}})
	}
	raw, _ := json.Marshal(map[string]any{"object": "page", "entry": []any{map[string]any{"id": "page", "time": 1732000000000, "messaging": events}}})
	id := newID()
	sealed, err := e.master.SealPlatform(raw, keyring.AAD{Table: "webhook_deliveries", Column: "body", Row: id})
	if err != nil {
		t.Fatal(err)
	}
	exec(t, e.d.W, `INSERT INTO webhook_deliveries (id, source, body, state, received_at) VALUES (?, 'meta', ?, ?, ?)`, id, sealed, state, t0)
	return id
}

// deliveryBody opens a stored delivery, "" when it is gone.
func (e *env) deliveryBody(t *testing.T, id string) string {
	t.Helper()
	var body []byte
	err := e.d.R.NewRaw(`SELECT body FROM webhook_deliveries WHERE id = ?`, id).Scan(context.Background(), &body)
	if err != nil {
		return ""
	}
	raw, err := e.master.OpenPlatform(body, keyring.AAD{Table: "webhook_deliveries", Column: "body", Row: id})
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// replacement returns the ID under which a scrubbed delivery was stored
// again: a scrubbed delivery gets a new ID of the same millisecond, so a
// processor's copy in memory claims nothing (scrubDeliveries). It fails
// the test unless exactly one such row, other than those named in
// others, stands in for old.
func (e *env) replacement(t *testing.T, old string, others ...string) string {
	t.Helper()
	if e.deliveryBody(t, old) != "" {
		t.Fatalf("delivery %s is still stored under its old ID", old)
	}
	var ids []string
	if err := e.d.R.NewRaw(`SELECT id FROM webhook_deliveries WHERE id LIKE ? AND id <> ?`, old[:13]+"%", old).Scan(context.Background(), &ids); err != nil {
		t.Fatal(err)
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return slices.Contains(others, id) })
	if len(ids) != 1 {
		t.Fatalf("deliveries of %s's millisecond: %v, want the one that replaced it", old, ids)
	}
	return ids[0]
}

// count returns how many rows q finds.
func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.R.NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// rowsNaming counts, per table with a contact_id column, the rows naming
// contactID.
func rowsNaming(t *testing.T, d *db.DB, contactID string) map[string]int {
	t.Helper()
	ctx := context.Background()
	var tables []string
	var err error
	if d.Dialect == db.SQLite {
		err = d.R.NewRaw(`SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c WHERE m.type = 'table' AND c.name = 'contact_id'`).Scan(ctx, &tables)
	} else {
		err = d.R.NewRaw(`SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'contact_id'`).Scan(ctx, &tables)
	}
	if err != nil || len(tables) < 10 {
		t.Fatalf("tables with contact_id: %v, %v", tables, err)
	}
	out := map[string]int{}
	for _, tb := range tables {
		if n := count(t, d, `SELECT count(*) FROM `+tb+` WHERE contact_id = ?`, contactID); n > 0 {
			out[tb] = n
		}
	}
	return out
}

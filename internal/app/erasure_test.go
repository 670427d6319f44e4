package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"mime/multipart"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/metasim"
	"github.com/parleyhq/parley/internal/realtime"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// canary is a value no database or log holds by chance, in letters only
// (names and free text accept it).
func canary(t *testing.T, label string) string {
	t.Helper()
	b := make([]byte, 10)
	rand.Read(b)
	return "Canary" + label + strings.Map(func(r rune) rune { return 'a' + (r-'0')%26 }, hex.EncodeToString(b))
}

// canaryPhone is a random Cambodian mobile number in E.164.
func canaryPhone(t *testing.T) string {
	t.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(900000))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("+85512%06d", n.Int64()+100000)
}

// forms are the shapes a canary could be stored in.
func forms(s string) map[string]string {
	return map[string]string{
		"clear": s, "lower": strings.ToLower(s),
		"hex": hex.EncodeToString([]byte(s)), "HEX": strings.ToUpper(hex.EncodeToString([]byte(s))),
		"base64": base64.RawStdEncoding.EncodeToString([]byte(s)), "base64url": base64.RawURLEncoding.EncodeToString([]byte(s)),
	}
}

// found lists where values appear in text, in any form.
func found(text string, values map[string]string) []string {
	var out []string
	for name, v := range values {
		for form, n := range forms(v) {
			if i := strings.Index(text, n); i >= 0 {
				line := text[strings.LastIndex(text[:i], "\n")+1:]
				if j := strings.IndexByte(line, '\n'); j > 0 {
					line = line[:j]
				}
				out = append(out, fmt.Sprintf("%s (%s) in %.100s", name, form, line))
			}
		}
	}
	return out
}

// Promise P-33 and P-34, test plan O-1, O-2 and O-4, end to end on both
// databases: a contact is exercised through every feature that keeps
// something of a person — a Messenger profile (names), its PSID, messages
// both ways (received through the signed webhook, a reply sent by an
// agent), a flow that asks a question and keeps the answer in its
// session's variables while it waits, custom fields (e-mail, phone), a
// tag, a private note on the conversation, a note on the contact, a call
// from the phone's call log, the search index. Baseline: every canary is
// readable back through the API. Then an admin erases the contact through
// the API; a dump of every table and column (clear, hex, base64) holds
// none of the canaries nor the contact's IDs, nor does the app's log; the
// message body copied before the erasure no longer opens; and the contact
// is found nowhere.
func TestEraseContactCanaries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started())
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		owner := a.SignUp(t, "canary-owner")
		ws := owner.CreateWorkspace(t, "Canary")
		base := "/api/v1/workspaces/" + ws
		ch, err := a.Sim.ConnectTestPage(ctx, audit.Actor{UserID: owner.ID}, ws)
		if err != nil {
			t.Fatal(err)
		}
		owner.Do("POST", base+"/fields", map[string]string{"key": "email", "label": "E-mail", "type": "email"}).Must(t, 201)
		owner.Do("POST", base+"/fields", map[string]string{"key": "phone", "label": "Phone", "type": "phone"}).Must(t, 201)
		doc := `{"format":1,"name":"Wish","triggers":[{"id":"kw","type":"keyword","mode":"contains","keywords":["wish"]}],
			"start":"ask","nodes":[
			{"id":"ask","type":"question","text":"What is your wish?","answer":"text","var":"wish","next":"wait"},
			{"id":"wait","type":"delay","duration":"2h","next":"bye"},
			{"id":"bye","type":"message","text":"Bye"}]}`
		var flow struct{ Flow struct{ ID string } }
		owner.Do("POST", base+"/flows", doc).Must(t, 201).JSON(t, &flow)
		owner.Do("POST", base+"/flows/"+flow.Flow.ID+"/publish", nil).Must(t, 200)

		c := map[string]string{
			"first": canary(t, "First"), "last": canary(t, "Last"), "in": canary(t, "Inbound"), "wish": canary(t, "Wish"),
			"out": canary(t, "Outbound"), "note": canary(t, "Note"), "activity": canary(t, "Activity"),
			"email": strings.ToLower(canary(t, "Mail")) + "@example.com", "phone": canaryPhone(t), "device": canary(t, "Device"),
			"file_name": canary(t, "FileName"), "file_text": canary(t, "FileText"),
		}
		sim := a.Sim.Sim()
		psid := sim.AddPerson(ch.ExternalID, metasim.Person{FirstName: c["first"], LastName: c["last"]})
		c["psid"] = psid
		say := func(text string) {
			t.Helper()
			if _, status, err := sim.SendText(ctx, ch.ExternalID, psid, text); err != nil || status != 200 {
				t.Fatalf("webhook: %d %v", status, err)
			}
		}
		say("I have a wish: " + c["in"])
		if _, err := sim.WaitSent(ctx, ch.ExternalID, 1); err != nil {
			t.Fatalf("the flow's question: %v", err)
		}
		say(c["wish"])
		var convID, contactID string
		for ctx.Err() == nil {
			list, err := a.Inbox.Conversations(ctx, ws, inbox.ListOptions{ChannelID: ch.ID})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) == 1 {
				convID, contactID = list[0].ID, list[0].ContactID
				var waiting int
				if err := d.R.NewRaw(`SELECT count(*) FROM flow_sessions WHERE conversation_id = ? AND status = 'waiting'`, convID).Scan(ctx, &waiting); err != nil {
					t.Fatal(err)
				}
				if ct, err := a.Contacts.Get(ctx, ws, contactID); err == nil && ct.DisplayName() != "" && waiting == 1 {
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		if ctx.Err() != nil {
			t.Fatal("the contact was never named, or its flow never waited")
		}
		c["contact_id"], c["conversation_id"] = contactID, convID

		owner.Do("POST", base+"/conversations/"+convID+"/messages", map[string]string{"text": c["out"]}).Must(t, 201)
		if _, err := sim.WaitSent(ctx, ch.ExternalID, 2); err != nil {
			t.Fatalf("the agent's reply: %v", err)
		}
		// An attachment: its name and its bytes are canaries.
		var mp bytes.Buffer
		w := multipart.NewWriter(&mp)
		part, err := w.CreateFormFile("file", c["file_name"]+".txt")
		if err != nil {
			t.Fatal(err)
		}
		part.Write([]byte("Attached: " + c["file_text"] + "\n"))
		w.Close()
		owner.DoRaw("POST", base+"/conversations/"+convID+"/attachments", w.FormDataContentType(), mp.Bytes()).Must(t, 201)
		if _, err := sim.WaitSent(ctx, ch.ExternalID, 3); err != nil {
			t.Fatalf("the attachment: %v", err)
		}
		if len(mediaDump(t, a)) == 0 {
			t.Fatal("control: no media file stored")
		}
		owner.Do("PUT", base+"/contacts/"+contactID+"/fields/email", map[string]any{"value": c["email"]}).Must(t, 200)
		owner.Do("PUT", base+"/contacts/"+contactID+"/fields/phone", map[string]any{"value": c["phone"]}).Must(t, 200)
		owner.Do("POST", base+"/contacts/"+contactID+"/tags", map[string]any{"name": "Regular", "create": true}).Must(t, 201)
		owner.Do("POST", base+"/conversations/"+convID+"/notes", map[string]string{"text": c["note"]}).Must(t, 201)
		owner.Do("POST", base+"/contacts/"+contactID+"/notes", map[string]string{"text": c["activity"]}).Must(t, 201)
		call := fmt.Sprintf(`{"device_id":%q,"calls":[{"number":%q,"name":"x","direction":"in","type":"answered","duration":42,"at":%q}]}`,
			c["device"], c["phone"], a.Clock.Now().Add(-time.Hour).Format(time.RFC3339))
		var synced struct{ Matched int }
		owner.Do("POST", base+"/call-logs", call).Must(t, 200).JSON(t, &synced)
		if synced.Matched != 1 {
			t.Fatalf("the call did not match the contact's phone: %+v", synced)
		}
		a.Clock.Advance(time.Minute) // past the indexer's lag
		for ctx.Err() == nil {
			var hits struct{ Messages []struct{ ID string } }
			owner.Do("GET", base+"/search?q="+url.QueryEscape(strings.ToLower(c["in"])), nil).Must(t, 200).JSON(t, &hits)
			if len(hits.Messages) > 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if ctx.Err() != nil {
			t.Fatal("the message never became searchable")
		}

		// O-1 baseline: the canaries are there, readable through the API.
		read := func(path string) string { return string(owner.Do("GET", base+path, nil).Must(t, 200).Body) }
		baseline := read("/contacts/"+contactID) + read("/conversations/"+convID+"/timeline") + read("/contacts/"+contactID+"/fields") +
			read("/contacts/"+contactID+"/activity")
		for _, k := range []string{"first", "last", "in", "wish", "out", "note", "activity", "email"} {
			if !strings.Contains(baseline, c[k]) {
				t.Errorf("baseline: %s canary not readable through the API", k)
			}
		}
		var body []byte
		var msgID string
		if err := d.R.NewRaw(`SELECT id, body FROM messages WHERE conversation_id = ? ORDER BY created_at LIMIT 1`, convID).Scan(ctx, &msgID, &body); err != nil {
			t.Fatal(err)
		}
		aad := keyring.AAD{Workspace: ws, Table: "messages", Column: "body", Row: msgID}
		if pt, err := a.Keyring.OpenContact(ctx, aad, contactID, body); err != nil || !strings.Contains(string(pt), c["in"]) {
			t.Fatalf("control: the first message's body does not open before erasure: %v", err)
		}
		if !strings.Contains(dbtest.DumpText(t, d), psid) {
			t.Fatal("control: the PSID is not in the dump before erasure")
		}

		// O-2: erase, then scan every table and column, and the logs.
		owner.Do("DELETE", base+"/contacts/"+contactID, nil).Must(t, 204)
		// Allowed residue: the audit log keeps the IDs it was written with
		// (append-only); an ID of a row that no longer exists names no one.
		ids := map[string]string{"contact_id": c["contact_id"], "conversation_id": c["conversation_id"]}
		delete(c, "contact_id")
		delete(c, "conversation_id")
		dump := dbtest.DumpText(t, d)
		if leaks := found(dump, c); len(leaks) > 0 {
			t.Errorf("the erased contact is still in the database:\n%s", strings.Join(leaks, "\n"))
		}
		if leaks := found(withoutTable(dump, "audit_log"), ids); len(leaks) > 0 {
			t.Errorf("the erased contact's IDs are still in the database:\n%s", strings.Join(leaks, "\n"))
		}
		if leaks := found(mediaDump(t, a), c); len(leaks) > 0 {
			t.Errorf("the contact is in object storage:\n%s", strings.Join(leaks, "\n"))
		}
		if n := len(mediaDump(t, a)); n != 0 {
			t.Errorf("%d bytes of media files left after erasing the only contact", n)
		}
		if leaks := found(a.Logs.String(), c); len(leaks) > 0 {
			t.Errorf("the contact is in the app's log:\n%s", strings.Join(leaks, "\n"))
		}
		// O-4: the copy of the body taken before no longer opens.
		if _, err := a.Keyring.OpenContact(ctx, aad, contactID, body); !errors.Is(err, keyring.ErrKeyDestroyed) {
			t.Errorf("the pre-erasure copy of a message: %v, want ErrKeyDestroyed", err)
		}
		owner.Do("GET", base+"/contacts/"+contactID, nil).Must(t, 404)
		owner.Do("GET", base+"/conversations/"+convID, nil).Must(t, 404)
		var hits struct {
			Contacts []any
			Messages []any
		}
		owner.Do("GET", base+"/search?q="+url.QueryEscape(strings.ToLower(c["first"])), nil).Must(t, 200).JSON(t, &hits)
		if len(hits.Contacts)+len(hits.Messages) != 0 {
			t.Errorf("the erased contact is still found: %+v", hits)
		}
		ts, err := a.Erasure.Tombstones(ctx, time.Time{})
		if err != nil || len(ts) != 1 || ts[0].Subject != a.Erasure.Subject(contactID) {
			t.Errorf("tombstones: %+v, %v", ts, err)
		}
	})
}

// withoutTable drops one table's section from a dbtest dump.
func withoutTable(dump, table string) string {
	head := "== " + table + " =="
	i := strings.Index(dump, head)
	if i < 0 {
		return dump
	}
	rest := dump[i+len(head):]
	if j := strings.Index(rest, "\n== "); j >= 0 {
		return dump[:i] + rest[j+1:]
	}
	return dump[:i]
}

// Open dashboards hear, by IDs only, that an erased contact and its
// conversation, or a deleted conversation, are gone; a refused erasure
// says nothing.
func TestEraseTellsOpenDashboards(t *testing.T) {
	d := dbtest.SQLite(t)
	a := apptest.New(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	owner := a.SignUp(t, "erase-live")
	ws := owner.CreateWorkspace(t, "Live")
	actor := audit.Actor{UserID: owner.ID}
	conv1, contact1 := a.Conversation(t, ws, "hi")
	conv2, _ := a.Conversation(t, ws, "hi")
	sub, err := a.Events.Subscribe(ctx, ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	next := func() realtime.Event {
		t.Helper()
		select {
		case ev := <-sub.Events():
			return ev
		case <-ctx.Done():
			t.Fatal("no live update")
		}
		return realtime.Event{}
	}

	if err := a.EraseContact(ctx, actor, ws, "no-such-contact"); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("unknown contact: %v", err)
	}
	if err := a.EraseContact(ctx, actor, ws, contact1); err != nil {
		t.Fatal(err)
	}
	want := []realtime.Event{
		{WorkspaceID: ws, Kind: realtime.KindContact, ContactID: contact1},
		{WorkspaceID: ws, Kind: realtime.KindConversation, ConversationID: conv1, ContactID: contact1},
	}
	for _, w := range want {
		if got := next(); got != w {
			t.Errorf("event %+v, want %+v", got, w)
		}
	}
	if err := a.DeleteConversation(ctx, actor, ws, conv2); err != nil {
		t.Fatal(err)
	}
	if got, w := next(), (realtime.Event{WorkspaceID: ws, Kind: realtime.KindConversation, ConversationID: conv2}); got != w {
		t.Errorf("event %+v, want %+v", got, w)
	}
}

// mediaDump concatenates every file under the app's media directory (the
// local object store), with its path.
func mediaDump(t *testing.T, a *apptest.App) string {
	t.Helper()
	var b strings.Builder
	root := filepath.Join(a.Config.DataDir, "media")
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		b.WriteString(p + ": ")
		b.Write(data)
		b.WriteString("\n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

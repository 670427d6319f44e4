package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/metasim"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// deletionGrace is the grace period of these tests: shorter than a
// session, so the same sessions see a deletion through.
const deletionGrace = time.Hour

// retainedTables keep rows of a purged workspace, as documented
// (docs/operations/backup.md, package workspace delete.go): the audit log
// (append-only for 12 months, pseudonymous actors) and the tombstone log.
var retainedTables = map[string]bool{"audit_log": true, "tombstones": true}

// populated is a workspace with a connected test page, two customers who
// wrote, a reply, a tag, notes and a canned response.
type populated struct {
	ws, pageID, channelID string
	owner, agent          *apptest.User
	contacts, convs       []string
	// sealed is one inbound message's body as stored, with its AAD.
	sealed  []byte
	aad     keyring.AAD
	contact string
	// canaries are clear values that belong only to the workspace.
	canaries []string
}

func populate(t *testing.T, a *apptest.App, d *db.DB) *populated {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := &populated{owner: a.SignUp(t, "purge-owner"), agent: a.SignUp(t, "purge-agent")}
	p.ws = p.owner.CreateWorkspace(t, "Canary Shop Zq7")
	a.Join(t, p.owner, p.ws, p.agent, "agent")
	ch, err := a.Sim.ConnectTestPage(ctx, audit.Actor{UserID: p.owner.ID}, p.ws)
	if err != nil {
		t.Fatal(err)
	}
	p.pageID, p.channelID = ch.ExternalID, ch.ID
	sim := a.Sim.Sim()
	for i, name := range []string{"Sokha", "Dara"} {
		psid := sim.AddPerson(ch.ExternalID, metasim.Person{FirstName: name, LastName: "Canaryson"})
		if _, status, err := sim.SendText(ctx, ch.ExternalID, psid, "hello from customer "+name); err != nil || status != 200 {
			t.Fatalf("webhook: %d %v", status, err)
		}
		waitFor(t, ctx, "the message to reach the inbox", func() bool {
			return countRows(t, d, `SELECT count(*) FROM conversations WHERE workspace_id = ?`, p.ws) == i+1
		})
	}
	if err := d.R.NewRaw(`SELECT id FROM contacts WHERE workspace_id = ? ORDER BY id`, p.ws).Scan(ctx, &p.contacts); err != nil {
		t.Fatal(err)
	}
	// Once the profile fetch has named them.
	for _, id := range p.contacts {
		waitFor(t, ctx, "the contact to be named", func() bool {
			c, err := a.Contacts.Get(ctx, p.ws, id)
			return err == nil && c.DisplayName() != ""
		})
	}
	if err := d.R.NewRaw(`SELECT id FROM conversations WHERE workspace_id = ? ORDER BY id`, p.ws).Scan(ctx, &p.convs); err != nil {
		t.Fatal(err)
	}
	base := "/api/v1/workspaces/" + p.ws
	p.agent.Do("POST", base+"/conversations/"+p.convs[0]+"/messages", map[string]string{"text": "an answer"}).Must(t, 201)
	// Let the reply go out and its echo come back, so the tables are
	// still when the tests compare them.
	if _, err := sim.WaitSent(ctx, ch.ExternalID, 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the reply to be sent", func() bool {
		return countRows(t, d, `SELECT count(*) FROM messages WHERE workspace_id = ? AND status IN ('queued', 'sending')`, p.ws) == 0
	})
	if err := sim.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the webhooks to be processed", func() bool {
		return countRows(t, d, `SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'`) == 0
	})
	p.owner.Do("POST", base+"/contacts/"+p.contacts[0]+"/tags", map[string]any{"name": "canary-tag-x9", "create": true}).Must(t, 201)
	p.agent.Do("POST", base+"/contacts/"+p.contacts[0]+"/notes", map[string]string{"text": "a note"}).Must(t, 201)
	p.agent.Do("POST", base+"/conversations/"+p.convs[0]+"/notes", map[string]string{"text": "a private note"}).Must(t, 201)
	p.owner.Do("POST", base+"/canned-responses", map[string]string{"shortcut": "hours", "title": "canary-canned-title", "body": "We open at 9."}).Must(t, 201)
	p.owner.Do("POST", base+"/invitations", map[string]string{"email": "invitee-canary@example.com", "role": "viewer"}).Must(t, 201)
	var msg struct {
		ID        string `bun:"id"`
		ContactID string `bun:"contact_id"`
		Body      []byte `bun:"body"`
	}
	if err := d.R.NewRaw(`SELECT m.id, c.contact_id, m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.workspace_id = ? AND m.direction = 'in' ORDER BY m.id LIMIT 1`, p.ws).Scan(ctx, &msg); err != nil {
		t.Fatal(err)
	}
	p.sealed, p.contact = msg.Body, msg.ContactID
	p.aad = keyring.AAD{Workspace: p.ws, Table: "messages", Column: "body", Row: msg.ID}
	if _, err := a.Keyring.OpenContact(ctx, p.aad, p.contact, p.sealed); err != nil {
		t.Fatalf("the message does not open before the deletion: %v", err)
	}
	p.canaries = append([]string{p.ws, p.channelID, "Canary Shop Zq7", "canary-tag-x9", "canary-canned-title", "invitee-canary@example.com"}, p.contacts...)
	p.canaries = append(p.canaries, p.convs...)
	return p
}

func waitFor(t *testing.T, ctx context.Context, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		if ctx.Err() != nil {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countRows(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.R.NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// tablesOfDump splits dbtest.DumpText by table.
func tablesOfDump(dump string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split("\n"+dump, "\n== ")[1:] {
		name, rest, _ := strings.Cut(part, " ==\n")
		out[name] = rest
	}
	return out
}

func requestDeletion(t *testing.T, p *populated) {
	t.Helper()
	p.owner.Do("POST", "/api/v1/workspaces/"+p.ws+"/deletion", map[string]string{"confirm_name": "Canary Shop Zq7", "password": apptest.Password}).Must(t, 202)
}

// Promise P-33, security.md §3.O O-5, end to end on both databases with a
// fake clock: at the owner's request the workspace is closed to every
// session and key at once, its page is unsubscribed from the app (the
// simulated Graph API records the call) and its token destroyed, so a new
// webhook for the page is acknowledged and dropped; after the grace period
// the purge job destroys its keys (an old ciphertext no longer opens) and
// leaves nothing of it in any table — every table and column dumped —
// except the documented retained items.
func TestWorkspaceDeletionPurgesEverything(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started(), apptest.WithConfig(func(c *config.Config) { c.WorkspacePurgeAfter = deletionGrace }))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		p := populate(t, a, d)
		other := p.owner.CreateWorkspace(t, "Neighbour")
		sim := a.Sim.Sim()

		requestDeletion(t, p)
		for _, u := range []*apptest.User{p.owner, p.agent} {
			u.Do("GET", "/api/v1/workspaces/"+p.ws+"/conversations", nil).Must(t, 404)
			u.Do("GET", "/w/"+p.ws+"/conversations", nil).Must(t, 404)
		}
		p.owner.Do("GET", "/api/v1/workspaces/"+other, nil).Must(t, 200)
		unsubscribed := false
		for _, c := range sim.Calls() {
			if c.Method == "DELETE" && strings.HasSuffix(c.Path, "/"+p.pageID+"/subscribed_apps") && c.Status == 200 {
				unsubscribed = true
			}
		}
		if !unsubscribed {
			t.Error("the page was not unsubscribed from the app")
		}
		if n := countRows(t, d, `SELECT count(*) FROM channels WHERE workspace_id = ? AND (token IS NOT NULL OR status = 'active')`, p.ws); n != 0 {
			t.Errorf("%d channels still active or holding a token", n)
		}
		// A webhook for the page is acknowledged and dropped.
		msgs := countRows(t, d, `SELECT count(*) FROM messages WHERE workspace_id = ?`, p.ws)
		psid := sim.AddPerson(p.pageID, metasim.Person{FirstName: "Late", LastName: "Writer"})
		if _, status, err := sim.SendText(ctx, p.pageID, psid, "anyone there?"); err != nil || status != 200 {
			t.Fatalf("webhook after deletion: %d %v", status, err)
		}
		waitFor(t, ctx, "the webhook to be counted for an unknown page", func() bool {
			return countRows(t, d, `SELECT count(*) FROM unknown_accounts WHERE external_id = ?`, p.pageID) == 1
		})
		if n := countRows(t, d, `SELECT count(*) FROM messages WHERE workspace_id = ?`, p.ws); n != msgs {
			t.Errorf("the deleted workspace received %d new messages", n-msgs)
		}

		// The grace period passes; the durable job purges.
		a.Clock.Advance(deletionGrace)
		a.Jobs.Notify()
		waitFor(t, ctx, "the purge", func() bool {
			return countRows(t, d, `SELECT count(*) FROM workspaces WHERE id = ?`, p.ws) == 0
		})
		for _, q := range []string{`SELECT count(*) FROM workspace_keys WHERE workspace_id = ?`, `SELECT count(*) FROM contact_keys WHERE workspace_id = ?`} {
			if n := countRows(t, d, q, p.ws); n != 0 {
				t.Errorf("%s: %d keys left", q, n)
			}
		}
		if _, err := a.Keyring.OpenContact(ctx, p.aad, p.contact, p.sealed); !errors.Is(err, keyring.ErrKeyDestroyed) {
			t.Errorf("old ciphertext after the purge: %v, want ErrKeyDestroyed", err)
		}
		if n := countRows(t, d, `SELECT count(*) FROM tombstones WHERE kind = 'workspace'`); n != 1 {
			t.Errorf("%d workspace tombstones, want 1", n)
		}
		// A job that was running while the purge ran may finish after it
		// (finding nothing): wait until none is left that names the
		// workspace, as none may stay.
		waitFor(t, ctx, "the jobs naming the workspace to end", func() bool {
			jobs := tablesOfDump(dbtest.DumpText(t, d))["jobs"]
			for _, c := range p.canaries {
				if strings.Contains(jobs, c) {
					return false
				}
			}
			return true
		})
		dump := tablesOfDump(dbtest.DumpText(t, d))
		if !strings.Contains(dump["workspaces"], other) {
			t.Fatal("the dump does not look complete: the other workspace is missing")
		}
		for table, rows := range dump {
			if retainedTables[table] {
				continue
			}
			for _, c := range p.canaries {
				if strings.Contains(rows, c) {
					t.Errorf("table %s still holds %q", table, c)
				}
			}
		}
		if !strings.Contains(dump["audit_log"], p.ws) {
			t.Error("the audit log of the purged workspace is gone; it is kept for 12 months")
		}
		// The other workspace and the people are untouched.
		p.owner.Do("GET", "/api/v1/workspaces/"+other, nil).Must(t, 200)
		p.agent.Do("GET", "/api/v1/me", nil).Must(t, 200)
	})
}

// security.md §3.O O-6: cancelling during the grace period gives back
// every row of the workspace as it was — the same rows in every table —
// and its sealed content still opens; only its channels stay disconnected
// (their tokens were destroyed), as documented.
func TestWorkspaceDeletionCancelRestores(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started(), apptest.WithConfig(func(c *config.Config) { c.WorkspacePurgeAfter = deletionGrace }))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		p := populate(t, a, d)
		before := tablesOfDump(dbtest.DumpText(t, d))

		requestDeletion(t, p)
		a.Clock.Advance(deletionGrace - time.Minute)
		p.agent.Do("GET", "/api/v1/workspaces/"+p.ws, nil).Must(t, 404)
		p.owner.Do("DELETE", "/api/v1/workspaces/"+p.ws+"/deletion", nil).Must(t, 200)
		// Past the old purge date: the job finds nothing to do.
		a.Clock.Advance(time.Hour)
		a.Jobs.Notify()
		waitFor(t, ctx, "the purge job to finish", func() bool {
			return countRows(t, d, `SELECT count(*) FROM jobs WHERE kind = 'workspace.purge'`) == 0
		})

		p.agent.Do("GET", "/api/v1/workspaces/"+p.ws+"/conversations/"+p.convs[0]+"/messages", nil).Must(t, 200)
		if pt, err := a.Keyring.OpenContact(ctx, p.aad, p.contact, p.sealed); err != nil || !strings.Contains(string(pt), "hello from customer") {
			t.Errorf("the message after cancelling: %q, %v", pt, err)
		}
		after := tablesOfDump(dbtest.DumpText(t, d))
		// What a deletion and its cancellation may change: the workspace's
		// own row (updated_at), its channels (disconnected), its pending
		// invitations (withdrawn, so none can be accepted meanwhile), the
		// audit log, and the job and session bookkeeping.
		// The search index is derived from the rows and kept up by a
		// background indexer that follows the (moved) clock.
		changed := map[string]bool{"workspaces": true, "channels": true, "invitations": true, "audit_log": true, "jobs": true, "job_periodic": true, "sessions": true, "unknown_accounts": true, "sqlite_sequence": true,
			"search_docs": true, "search_grams": true, "search_cursors": true, "search_pending": true}
		for table, rows := range before {
			if changed[table] {
				continue
			}
			if after[table] != rows {
				t.Errorf("table %s differs after cancelling", table)
			}
		}
		for _, id := range append(append([]string{}, p.contacts...), p.convs...) {
			if !strings.Contains(after["contacts"]+after["conversations"], id) {
				t.Errorf("%s is missing after cancelling", id)
			}
		}
	})
}

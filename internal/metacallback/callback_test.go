package metacallback

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

var codeRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// nothingStored fails when a refused callback left a request, a job or an
// audit entry behind.
func nothingStored(t *testing.T, e *env) {
	t.Helper()
	if n := count(t, e.d, `SELECT count(*) FROM meta_deletion_requests`); n != 0 {
		t.Errorf("%d deletion requests stored", n)
	}
	if n := count(t, e.d, `SELECT count(*) FROM jobs`); n != 0 {
		t.Errorf("%d jobs queued", n)
	}
	if n := count(t, e.d, `SELECT count(*) FROM audit_log`); n != 0 {
		t.Errorf("%d audit entries", n)
	}
}

// Promise P-32, security.md §3.H H-1: bad input is refused over HTTP with
// 400 (403 for a bad signature, 413 for a huge body) on both callbacks,
// and nothing is recorded.
func TestCallbackRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		valid := e.deletionRequest(t, "218471")
		sigPart, payloadPart, _ := strings.Cut(valid, ".")
		// Tampered: the first character changed (to another one: replacing
		// it with a fixed letter would leave one signature in 64 intact).
		tampered := "A" + sigPart[1:]
		if sigPart[0] == 'A' {
			tampered = "B" + sigPart[1:]
		}
		form := "application/x-www-form-urlencoded"
		tests := []struct {
			name, contentType, body string
			want                    int
		}{
			{"tampered signature", form, url.Values{"signed_request": {tampered + "." + payloadPart}}.Encode(), http.StatusForbidden},
			{"signed with another secret", form, url.Values{"signed_request": {sign("other", `{"algorithm":"HMAC-SHA256","user_id":"1"}`)}}.Encode(), http.StatusForbidden},
			{"wrong algorithm", form, url.Values{"signed_request": {e.signed(t, map[string]any{"algorithm": "HMAC-SHA1", "user_id": "1"})}}.Encode(), http.StatusBadRequest},
			{"missing user_id", form, url.Values{"signed_request": {e.signed(t, map[string]any{"algorithm": "HMAC-SHA256"})}}.Encode(), http.StatusBadRequest},
			{"non-JSON payload", form, url.Values{"signed_request": {sign(e.sim.AppSecret(), "hello")}}.Encode(), http.StatusBadRequest},
			{"extra dots", form, url.Values{"signed_request": {valid + ".x"}}.Encode(), http.StatusBadRequest},
			{"bad base64", form, url.Values{"signed_request": {"!!!." + payloadPart}}.Encode(), http.StatusBadRequest},
			{"no signed_request field", form, "other=1", http.StatusBadRequest},
			{"two signed_request fields", form, url.Values{"signed_request": {valid, valid}}.Encode(), http.StatusBadRequest},
			{"JSON body", "application/json", `{"signed_request":"` + valid + `"}`, http.StatusBadRequest},
			{"huge body", form, "signed_request=" + strings.Repeat("A", 64<<10), http.StatusRequestEntityTooLarge},
		}
		for _, path := range []string{"/meta/data-deletion", "/meta/deauthorize"} {
			for _, tt := range tests {
				t.Run(path+"/"+tt.name, func(t *testing.T) {
					st, body := post(t, e.handler, path, tt.contentType, tt.body)
					if st != tt.want {
						t.Fatalf("status %d, want %d: %s", st, tt.want, body)
					}
					if strings.Contains(string(body), "218471") {
						t.Errorf("the refusal echoes the user ID: %s", body)
					}
				})
			}
		}
		nothingStored(t, e)

		t.Run("no app secret configured: every callback refused", func(t *testing.T) {
			h := e.mux(e.service("", nil))
			st, _ := post(t, h, "/meta/data-deletion", form, url.Values{"signed_request": {valid}}.Encode())
			if st != http.StatusForbidden {
				t.Fatalf("status %d, want 403", st)
			}
			nothingStored(t, e)
		})
	})
}

// Promise P-32, H-2 and H-4: a valid request for a person Parley knows
// nothing about gets exactly {url, confirmation_code}, like anyone else;
// the code is 128 bits in hex, only its hash is stored, the URL holds no
// personal data, and the status page finds the request by it.
func TestDeletionUnknownPerson(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		const asid = "5550001112223334"
		st, body := e.callback(t, "/meta/data-deletion", e.deletionRequest(t, asid))
		if st != http.StatusOK {
			t.Fatalf("status %d: %s", st, body)
		}
		a := answer(t, body)
		if !codeRE.MatchString(a.ConfirmationCode) {
			t.Fatalf("code %q: want 32 hex digits (128 bits)", a.ConfirmationCode)
		}
		if a.URL != baseURL+"/data-deletion?code="+a.ConfirmationCode {
			t.Errorf("url %q", a.URL)
		}
		if strings.Contains(a.URL, asid) {
			t.Error("the status URL names the person")
		}
		dump := dbtest.DumpText(t, d)
		for _, leak := range []string{asid, a.ConfirmationCode} {
			if strings.Contains(dump, leak) {
				t.Errorf("the database holds %q in clear", leak)
			}
		}
		req, err := e.svc.Status(context.Background(), a.ConfirmationCode)
		if err != nil || req.State != Received {
			t.Fatalf("status = %+v, %v", req, err)
		}
		if e.runJobs(t) != 1 {
			t.Fatal("want one deletion job")
		}
		req, _ = e.svc.Status(context.Background(), a.ConfirmationCode)
		if req.State != Completed || !req.CompletedAt.Equal(t0) || req.ChannelsDisconnected != 0 || req.ContactsErased != 0 {
			t.Errorf("after the job: %+v", req)
		}
		if n := count(t, d, `SELECT count(*) FROM meta_deletion_requests WHERE asid_hash <> ''`); n != 0 {
			t.Error("a completed request keeps the person's hash")
		}
		for _, code := range []string{"", "x", strings.Repeat("0", 32), a.ConfirmationCode[:31], a.ConfirmationCode + "0", strings.ToUpper(a.ConfirmationCode)} {
			if _, err := e.svc.Status(context.Background(), code); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("Status(%q) = %v, want ErrNotFound", code, err)
			}
		}
	})
}

// Promise P-32, H-3: a valid request for a member who connected Pages
// through Facebook Login disconnects the Pages whose token came from them
// (unsubscribed while the token works, token destroyed), erases the
// contacts linked to them, leaves other members' Pages alone, forgets the
// identity rows and audit-logs it all with a pseudonymous subject.
func TestDeletionKnownStaff(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, member, other := e.workspace(t), e.user(t), e.user(t)
		alice, bob := e.sim.AddUser("Alice"), e.sim.AddUser("Bob")
		p1, p2 := e.sim.AddPage(alice.ID, "Shop One"), e.sim.AddPage(alice.ID, "Shop Two")
		p3 := e.sim.AddPage(bob.ID, "Bob's")
		mine := e.login(t, ws, member, "Alice", p1.ID, p2.ID)
		theirs := e.login(t, ws, other, "Bob", p3.ID)
		if n := count(t, d, `SELECT count(*) FROM meta_identities WHERE channel_id IS NOT NULL`); n != 3 {
			t.Fatalf("%d channel origins recorded, want 3", n)
		}
		// Alice also wrote to a Page as a customer, and opted in with her
		// app-scoped ID: her contact is linked.
		psid := e.sim.AddPerson(p3.ID, metasimPerson())
		c, _, err := e.contacts.Upsert(ctx, d.W, theirs[0], psid)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.LinkContact(ctx, d.W, ws, c.ID, alice.ID, SourceOptIn); err != nil {
			t.Fatal(err)
		}
		bystander, _, err := e.contacts.Upsert(ctx, d.W, theirs[0], e.sim.AddPerson(p3.ID, metasimPerson()))
		if err != nil {
			t.Fatal(err)
		}

		st, body := e.callback(t, "/meta/data-deletion", e.deletionRequest(t, alice.ID))
		if st != http.StatusOK {
			t.Fatalf("status %d: %s", st, body)
		}
		a := answer(t, body)
		if n := count(t, d, `SELECT count(*) FROM jobs WHERE kind = ?`, KindDeletion); n != 1 {
			t.Fatalf("%d deletion jobs queued, want 1", n)
		}
		e.runJobs(t)

		for _, ch := range mine {
			got := e.channel(t, ws, ch.ID)
			if got.Status != channel.Disconnected {
				t.Errorf("channel %s still %s", ch.Name, got.Status)
			}
			if n := count(t, d, `SELECT count(*) FROM channels WHERE id = ? AND token IS NOT NULL`, ch.ID); n != 0 {
				t.Errorf("channel %s keeps its token", ch.Name)
			}
			if e.unsubscribed(ch.ExternalID) != 1 {
				t.Errorf("page %s was not unsubscribed", ch.ExternalID)
			}
		}
		if got := e.channel(t, ws, theirs[0].ID); got.Status != channel.Active {
			t.Errorf("Bob's page was disconnected too: %s", got.Status)
		}
		if got := e.eraser.list(); len(got) != 1 || got[0] != c.ID {
			t.Errorf("erased %v, want only Alice's contact %s", got, c.ID)
		}
		if _, err := e.contacts.Get(ctx, ws, bystander.ID); err != nil {
			t.Errorf("the bystander contact is gone: %v", err)
		}
		if n := count(t, d, `SELECT count(*) FROM meta_identities WHERE asid_hash = ?`, e.svc.HashASID(alice.ID)); n != 0 {
			t.Errorf("%d identity rows of Alice remain", n)
		}
		if n := count(t, d, `SELECT count(*) FROM meta_identities WHERE asid_hash = ?`, e.svc.HashASID(bob.ID)); n != 1 {
			t.Errorf("Bob's identity row is gone")
		}
		req, err := e.svc.Status(ctx, a.ConfirmationCode)
		if err != nil || req.State != Completed || req.ChannelsDisconnected != 2 || req.ContactsErased != 1 {
			t.Errorf("request %+v, %v", req, err)
		}
		// Audit: the workspace sees its channels disconnected; the platform
		// entries name the subject by its hash only.
		entries, err := audit.List(ctx, d, audit.Filter{WorkspaceID: ws, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		deauth := 0
		for _, en := range entries {
			if en.Action == ActionDeauthorized {
				deauth++
			}
		}
		if deauth != 2 {
			t.Errorf("%d %s entries in the workspace's log, want 2", deauth, ActionDeauthorized)
		}
		if n := count(t, d, `SELECT count(*) FROM audit_log WHERE action IN (?, ?) AND workspace_id IS NULL`, ActionDeletionReceived, ActionDeletionCompleted); n != 2 {
			t.Errorf("%d platform audit entries, want 2", n)
		}
		if strings.Contains(dbtest.DumpText(t, d), alice.ID) {
			t.Error("the database holds Alice's app-scoped ID in clear")
		}
	})
}

// H-5: the same person twice gets the same code and one deletion; once
// that deletion is completed, a new request starts.
func TestDeletionIdempotent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		sr := e.deletionRequest(t, "777")
		_, b1 := e.callback(t, "/meta/data-deletion", sr)
		_, b2 := e.callback(t, "/meta/data-deletion", e.deletionRequest(t, "777"))
		a1, a2 := answer(t, b1), answer(t, b2)
		if a1 != a2 {
			t.Fatalf("two answers for one open request: %v, %v", a1, a2)
		}
		if n := count(t, d, `SELECT count(*) FROM meta_deletion_requests`); n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}
		if n := e.runJobs(t); n != 1 {
			t.Fatalf("%d jobs ran, want 1", n)
		}
		_, b3 := e.callback(t, "/meta/data-deletion", sr)
		if a3 := answer(t, b3); a3 == a1 {
			t.Error("a request after completion reused the completed one")
		}
		if n := count(t, d, `SELECT count(*) FROM meta_deletion_requests`); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
		// A year on, the completed one is purged; the open one stays.
		e.clock.Advance(RequestRetention + time.Second)
		if n, err := e.svc.PurgeRequests(context.Background(), e.clock.Now().Add(-RequestRetention)); err != nil || n != 1 {
			t.Fatalf("purged %d, %v; want 1", n, err)
		}
		if _, err := e.svc.Status(context.Background(), a1.ConfirmationCode); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("a purged request still answers: %v", err)
		}
		if n := count(t, d, `SELECT count(*) FROM meta_deletion_requests`); n != 1 {
			t.Errorf("%d requests after the purge, want the open one", n)
		}
	})
}

// Promise P-32, H-6: the deauthorize callback disconnects the channels
// whose token came from that person (and nothing else, no contact
// erased); an invalid signature is 403 and changes nothing.
func TestDeauthorize(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws, member := e.workspace(t), e.user(t)
		alice := e.sim.AddUser("Alice")
		p1 := e.sim.AddPage(alice.ID, "Shop")
		chs := e.login(t, ws, member, "Alice", p1.ID)

		forged := sign("not the secret", `{"algorithm":"HMAC-SHA256","user_id":"`+alice.ID+`"}`)
		if st, _ := e.callback(t, "/meta/deauthorize", forged); st != http.StatusForbidden {
			t.Fatalf("forged: status %d, want 403", st)
		}
		if e.runJobs(t) != 0 || e.channel(t, ws, chs[0].ID).Status != channel.Active {
			t.Fatal("a forged deauthorize changed something")
		}

		st, body := e.callback(t, "/meta/deauthorize", e.signed(t, map[string]any{"algorithm": "HMAC-SHA256", "issued_at": t0.Unix(), "user_id": alice.ID}))
		if st != http.StatusOK || strings.TrimSpace(string(body)) != "{}" {
			t.Fatalf("status %d: %s", st, body)
		}
		if e.runJobs(t) != 1 {
			t.Fatal("want one deauthorize job")
		}
		got := e.channel(t, ws, chs[0].ID)
		if got.Status != channel.Disconnected {
			t.Errorf("channel %s", got.Status)
		}
		if e.unsubscribed(p1.ID) != 1 {
			t.Error("the page was not unsubscribed")
		}
		if len(e.eraser.list()) != 0 {
			t.Error("deauthorize erased contacts")
		}
		if n := count(t, d, `SELECT count(*) FROM meta_deletion_requests`); n != 0 {
			t.Error("deauthorize opened a deletion request")
		}
		// Unknown people are answered the same and change nothing.
		if st, _ := e.callback(t, "/meta/deauthorize", e.deletionRequest(t, "999")); st != http.StatusOK {
			t.Errorf("unknown person: %d", st)
		}
	})
}

// A Page reconnected with a pasted token no longer counts as the login's
// person's: a deletion for them leaves it connected.
func TestPastedTokenForgetsOrigin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws, member := e.workspace(t), e.user(t)
		alice := e.sim.AddUser("Alice")
		p1 := e.sim.AddPage(alice.ID, "Shop")
		chs := e.login(t, ws, member, "Alice", p1.ID)
		if _, err := e.connect.ConnectToken(context.Background(), audit.Actor{UserID: member}, ws, p1.ID, e.sim.PageToken(p1.ID)); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT count(*) FROM meta_identities`); n != 0 {
			t.Fatalf("%d identity rows after a pasted token, want 0", n)
		}
		e.callback(t, "/meta/data-deletion", e.deletionRequest(t, alice.ID))
		e.runJobs(t)
		if got := e.channel(t, ws, chs[0].ID); got.Status != channel.Active {
			t.Errorf("channel %s, want active", got.Status)
		}
	})
}

// Meta's ID matching (ids_for_pages) reaches contacts on Pages of the
// app's business only; a Page outside it keeps its contact (which is what
// the status page says the callback cannot reach).
func TestDeletionIDMatching(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, member := e.workspace(t), e.user(t)
		owner, customer := e.sim.AddUser("Owner"), e.sim.AddUser("Customer")
		inBiz, outBiz := e.sim.AddPage(owner.ID, "In business"), e.sim.AddPage(owner.ID, "Elsewhere")
		chs := e.login(t, ws, member, "Owner", inBiz.ID, outBiz.ID)
		psidIn, psidOut := e.sim.AddPerson(inBiz.ID, metasimPerson()), e.sim.AddPerson(outBiz.ID, metasimPerson())
		e.sim.LinkPerson(customer.ID, inBiz.ID, psidIn)
		e.sim.LinkPerson(customer.ID, outBiz.ID, psidOut)
		e.sim.SetBusinessPage(inBiz.ID, true)
		cIn, _, err := e.contacts.Upsert(ctx, d.W, chs[0], psidIn)
		if err != nil {
			t.Fatal(err)
		}
		cOut, _, err := e.contacts.Upsert(ctx, d.W, chs[1], psidOut)
		if err != nil {
			t.Fatal(err)
		}
		_, b := e.callback(t, "/meta/data-deletion", e.deletionRequest(t, customer.ID))
		e.runJobs(t)
		if got := e.eraser.list(); len(got) != 1 || got[0] != cIn.ID {
			t.Errorf("erased %v, want only %s", got, cIn.ID)
		}
		if _, err := e.contacts.Get(ctx, ws, cOut.ID); err != nil {
			t.Errorf("the contact outside the business is gone: %v", err)
		}
		for _, ch := range chs {
			if e.channel(t, ws, ch.ID).Status != channel.Active {
				t.Error("a customer's deletion disconnected the business's pages")
			}
		}
		req, _ := e.svc.Status(ctx, answer(t, b).ConfirmationCode)
		if req.ContactsErased != 1 {
			t.Errorf("contacts erased %d, want 1", req.ContactsErased)
		}
	})
}

// H-7: the operator's import of Meta's ID lists opens one request per
// person with the same effects as the callback, audit-logged with the
// operator as actor; a malformed list opens nothing.
func TestImportASIDs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		op := audit.Actor{UserID: e.user(t)}
		if _, err := e.svc.ImportASIDs(ctx, op, []string{"123", "12x"}); err == nil || !strings.Contains(err.Error(), "Line 2") {
			t.Fatalf("malformed list: %v", err)
		}
		if _, err := e.svc.ImportASIDs(ctx, op, []string{" ", ""}); err == nil {
			t.Fatal("an empty list was accepted")
		}
		nothingStored(t, e)

		ws, member := e.workspace(t), e.user(t)
		alice := e.sim.AddUser("Alice")
		chs := e.login(t, ws, member, "Alice", e.sim.AddPage(alice.ID, "Shop").ID)
		reqs, err := e.svc.ImportASIDs(ctx, op, []string{alice.ID, " 42 ", alice.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(reqs) != 2 || reqs[0].Code == reqs[1].Code || !codeRE.MatchString(reqs[0].Code) {
			t.Fatalf("requests %+v", reqs)
		}
		if n := count(t, d, `SELECT count(*) FROM audit_log WHERE action = ? AND actor_user_id = ?`, ActionDeletionReceived, op.UserID); n != 2 {
			t.Errorf("%d audit entries by the operator, want 2", n)
		}
		e.runJobs(t)
		if e.channel(t, ws, chs[0].ID).Status != channel.Disconnected {
			t.Error("the imported request did not disconnect Alice's page")
		}
		again, err := e.svc.ImportASIDs(ctx, op, []string{"42"})
		if err != nil || again[0].Source != SourceImport {
			t.Fatalf("%+v %v", again, err)
		}
		list, err := e.svc.Requests(ctx, 10)
		if err != nil || len(list) != 3 {
			t.Errorf("requests %d, %v", len(list), err)
		}
	})
}

// Security.md G-15 for the callbacks: refused callbacks count against a
// limit per client address; past it the address gets 429 (even for a
// valid callback) until the window ends, before anything is parsed or
// stored. Valid callbacks never count, however many.
func TestCallbackRateLimit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		h := e.mux(e.service(e.sim.AppSecret(), httpx.NewLimiter(2, time.Minute, e.clock.Now)))
		form := "application/x-www-form-urlencoded"
		valid := url.Values{"signed_request": {e.deletionRequest(t, "1")}}.Encode()
		forged := url.Values{"signed_request": {sign("forger", `{"algorithm":"HMAC-SHA256","user_id":"1"}`)}}.Encode()
		for i := range 5 {
			if st, _ := post(t, h, "/meta/deauthorize", form, valid); st != http.StatusOK {
				t.Fatalf("valid call %d: status %d", i+1, st)
			}
		}
		for i, want := range []int{403, 403, 429} {
			if st, _ := post(t, h, "/meta/deauthorize", form, forged); st != want {
				t.Fatalf("forged call %d: status %d, want %d", i+1, st, want)
			}
		}
		if st, _ := post(t, h, "/meta/data-deletion", form, valid); st != http.StatusTooManyRequests {
			t.Errorf("a blocked address got %d, want 429", st)
		}
		if n := count(t, d, `SELECT count(*) FROM meta_deletion_requests`); n != 0 {
			t.Errorf("a blocked callback opened %d requests", n)
		}
		e.clock.Advance(time.Minute)
		if st, _ := post(t, h, "/meta/deauthorize", form, valid); st != http.StatusOK {
			t.Errorf("after the window: %d", st)
		}
	})
}

// H-5 under concurrency: callbacks for one person racing each other end
// with one request and one deletion job, and all get its code.
func TestDeletionConcurrentOpen(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		const n = 8
		codes := make(chan string, n)
		errs := make(chan error, n)
		for range n {
			go func() {
				r, err := e.svc.Open(context.Background(), audit.Actor{}, "31337", SourceCallback)
				codes <- r.Code
				errs <- err
			}()
		}
		first := ""
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
			c := <-codes
			if first == "" {
				first = c
			}
			if c != first {
				t.Errorf("codes differ: %s, %s", c, first)
			}
		}
		if got := count(t, d, `SELECT count(*) FROM meta_deletion_requests`); got != 1 {
			t.Errorf("%d requests, want 1", got)
		}
		if got := count(t, d, `SELECT count(*) FROM jobs WHERE kind = ?`, KindDeletion); got != 1 {
			t.Errorf("%d jobs, want 1", got)
		}
	})
}

// A member who deletes their Parley account leaves Pages connected with
// their Facebook login's token: the origin outlives the account, so a
// later deletion request for them still disconnects the Pages.
func TestOriginOutlivesMember(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws, member := e.workspace(t), e.user(t)
		alice := e.sim.AddUser("Alice")
		chs := e.login(t, ws, member, "Alice", e.sim.AddPage(alice.ID, "Shop").ID)
		if _, err := d.W.NewRaw(`DELETE FROM users WHERE id = ?`, member).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT count(*) FROM meta_identities WHERE channel_id = ? AND user_id IS NULL`, chs[0].ID); n != 1 {
			t.Fatalf("origin rows after the member left: %d, want 1 without the member", n)
		}
		e.callback(t, "/meta/data-deletion", e.deletionRequest(t, alice.ID))
		e.runJobs(t)
		if e.channel(t, ws, chs[0].ID).Status != channel.Disconnected {
			t.Error("the page stayed connected")
		}
	})
}

// H-5 after a failure: a request whose deletion job died (attempts used
// up) is not left "in progress" for ever: the next callback for the person
// gets the same code and queues the deletion again, once, and it
// completes.
func TestDeletionRequeuedAfterDeadJob(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		_, b1 := e.callback(t, "/meta/data-deletion", e.deletionRequest(t, "9090"))
		a1 := answer(t, b1)
		if _, err := d.W.NewRaw(`UPDATE jobs SET state = 'dead' WHERE kind = ?`, KindDeletion).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.setState(ctx, mustStatus(t, e, a1.ConfirmationCode).ID, InProgress); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			_, b := e.callback(t, "/meta/data-deletion", e.deletionRequest(t, "9090"))
			if a := answer(t, b); a != a1 {
				t.Fatalf("answer %v, want the open request's %v", a, a1)
			}
		}
		if n := count(t, d, `SELECT count(*) FROM jobs WHERE kind = ? AND state <> 'dead'`, KindDeletion); n != 1 {
			t.Fatalf("%d live deletion jobs after two callbacks, want 1", n)
		}
		if _, err := d.W.NewRaw(`DELETE FROM jobs WHERE state = 'dead'`).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if n := e.runJobs(t); n != 1 {
			t.Fatalf("%d jobs ran, want 1", n)
		}
		if r := mustStatus(t, e, a1.ConfirmationCode); r.State != Completed {
			t.Errorf("state %s, want completed", r.State)
		}
	})
}

func mustStatus(t *testing.T, e *env, code string) Request {
	t.Helper()
	r, err := e.svc.Status(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

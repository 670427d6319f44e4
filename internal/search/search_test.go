package search

import (
	"time"

	"context"
	"errors"
	"fmt"
	"github.com/parleyhq/parley/internal/audit"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

func contactIDs(r Results) []string {
	var ids []string
	for _, h := range r.Contacts {
		ids = append(ids, h.ID)
	}
	slices.Sort(ids)
	return ids
}

func messageIDs(r Results) []string {
	var ids []string
	for _, h := range r.Messages {
		ids = append(ids, h.ID)
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// Khmer, Thai and Latin text is found from inside unspaced words, in
// names and in message text, and nothing else is.
func TestSearchScripts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, 0)
		ws, ch := e.workspace("p1")
		sokha := e.person(ch, "a", "Sokha", "Chan")
		dara := e.person(ch, "b", "សុខដារា", "") // unspaced Khmer
		somchai := e.person(ch, "c", "สมชายใจดี", "")
		banana := e.person(ch, "d", "Banana", "Abcx Bcd")
		mBanana := e.message(banana, "banana split abcx bcd")
		mKm := e.message(dara, "ខ្ញុំចង់ទិញអាវពណ៌ខៀវ")
		mTh := e.message(somchai, "สวัสดีครับราคาเท่าไหร่")
		mEn := e.message(sokha, "Is the blue shirt still available?")
		e.message(sokha, "thanks")
		e.catchUp(e.ix)

		tests := []struct {
			q        string
			contacts []string
			messages []string
		}{
			{"okha", sorted(sokha.ID), nil},       // Latin, inside a word
			{"sokha chan", sorted(sokha.ID), nil}, // across the space
			{"ដារា", sorted(dara.ID), nil},        // Khmer inside an unspaced name
			{"ใจดี", sorted(somchai.ID), nil},     // Thai inside an unspaced name
			{"អាវ", nil, sorted(mKm)},             // Khmer word inside a sentence
			{"ពណ៌ខៀវ", nil, sorted(mKm)},          // with a sign (U+17CC)
			{"ราคา", nil, sorted(mTh)},            // Thai word inside a sentence
			{"shirt still", nil, sorted(mEn)},     // Latin
			{"blue shirt is", nil, nil},           // its grams are there, the text is not
			{"xyz", nil, nil},                     // nowhere
			{"banan", sorted(banana.ID), sorted(mBanana)},
			{"abcd", nil, nil},     // both its trigrams ("abc", "bcd") are there, the text is not: verification
			{"ខ្ញុំទិញ", nil, nil}, // both words present, not adjacent
		}
		for _, tt := range tests {
			r := e.search(ws, tt.q, QueryOptions{})
			if diff := cmp.Diff(tt.contacts, contactIDs(r)); diff != "" {
				t.Errorf("%q contacts (-want +got):\n%s", tt.q, diff)
			}
			if diff := cmp.Diff(tt.messages, messageIDs(r)); diff != "" {
				t.Errorf("%q messages (-want +got):\n%s", tt.q, diff)
			}
		}

		// Hits carry what the dashboard shows: the opened name, the
		// conversation and a snippet.
		r := e.search(ws, "ราคา", QueryOptions{Messages: true})
		if len(r.Messages) != 1 || r.Messages[0].ConversationID != e.convs[somchai.ID] || r.Messages[0].ContactID != somchai.ID ||
			r.Messages[0].Snippet != "สวัสดีครับราคาเท่าไหร่" || r.Contacts != nil {
			t.Errorf("message hit = %+v", r)
		}
		r = e.search(ws, "chan", QueryOptions{Contacts: true})
		if len(r.Contacts) != 1 || r.Contacts[0].Name != "Sokha Chan" || r.Messages != nil {
			t.Errorf("contact hit = %+v", r)
		}
	})
}

// Queries of one or two code points match the start of a word.
func TestShortQueries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, 0)
		ws, ch := e.workspace("p1")
		sokha := e.person(ch, "a", "Sokha", "Chan")
		dara := e.person(ch, "b", "សុខ", "ដារា")
		vichea := e.person(ch, "c", "Vichea", "")
		m := e.message(vichea, "ok ជាការស្រេច")
		e.catchUp(e.ix)

		tests := []struct {
			q        string
			contacts []string
			messages []string
		}{
			{"s", sorted(sokha.ID), nil},
			{"So", sorted(sokha.ID), nil},
			{"c", sorted(sokha.ID), nil}, // "Chan"
			{"v", sorted(vichea.ID), nil},
			{"kh", nil, nil}, // inside a word: needs three code points
			{"ដា", sorted(dara.ID), nil},
			{"ស", sorted(dara.ID), nil},
			{"ជា", nil, sorted(m)},
			{"ok", nil, sorted(m)},
		}
		for _, tt := range tests {
			r := e.search(ws, tt.q, QueryOptions{})
			if diff := cmp.Diff(tt.contacts, contactIDs(r)); diff != "" {
				t.Errorf("%q contacts (-want +got):\n%s", tt.q, diff)
			}
			if diff := cmp.Diff(tt.messages, messageIDs(r)); diff != "" {
				t.Errorf("%q messages (-want +got):\n%s", tt.q, diff)
			}
		}
	})
}

// Letter case, Latin diacritics, Khmer digits and phone formatting do not
// matter; phones and e-mails (sealed field values) are found.
func TestNormalizationPhonesEmails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, 0)
		ctx := context.Background()
		ws, ch := e.workspace("p1")
		jose := e.person(ch, "a", "José", "Núñez")
		for _, f := range []struct {
			key string
			typ contact.FieldType
		}{{"phone", contact.FieldPhone}, {"email", contact.FieldEmail}} {
			if _, err := e.contacts.DefineField(ctx, admin, ws, f.key, contact.FieldSpec{Label: f.key, Type: f.typ}); err != nil {
				t.Fatal(err)
			}
		}
		set := func(key, v string) {
			t.Helper()
			if _, err := e.contacts.SetField(ctx, nil, ws, jose.ID, key, v, contact.SetOptions{By: contact.By{Kind: contact.BySystem}, Region: "KH"}); err != nil {
				t.Fatal(err)
			}
			if err := e.ix.Touch(ctx, d.W, ws, jose.ID); err != nil {
				t.Fatal(err)
			}
		}
		set("phone", "012 345 678")
		set("email", "Jose.Nunez@Example.COM")
		e.catchUp(e.ix)

		want := sorted(jose.ID)
		for _, q := range []string{"jose", "JOSÉ", "nunez", "NÚÑ", "345 678", "+855 12 345", "៣៤៥៦", "12345678", "example.com", "jose.n", "j"} {
			if diff := cmp.Diff(want, contactIDs(e.search(ws, q, QueryOptions{}))); diff != "" {
				t.Errorf("%q (-want +got):\n%s", q, diff)
			}
		}
		for _, q := range []string{"joss", "999", "example.org"} {
			if got := contactIDs(e.search(ws, q, QueryOptions{})); got != nil {
				t.Errorf("%q found %v", q, got)
			}
		}

		// A changed phone, once touched and indexed, replaces the old one.
		set("phone", "+85598765432")
		e.catchUp(e.ix)
		if got := contactIDs(e.search(ws, "98765", QueryOptions{})); !slices.Equal(got, want) {
			t.Errorf("new phone: %v", got)
		}
		if got := contactIDs(e.search(ws, "345678", QueryOptions{})); got != nil {
			t.Errorf("old phone still found: %v", got)
		}
	})
}

// Another workspace's contacts and messages are never found, even with
// the same text.
func TestWorkspaceIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, 0)
		wsA, chA := e.workspace("pa")
		wsB, chB := e.workspace("pb")
		a := e.person(chA, "x", "Srey", "Leak")
		b := e.person(chB, "x", "Srey", "Leak")
		ma := e.message(a, "តម្លៃប៉ុន្មាន")
		mb := e.message(b, "តម្លៃប៉ុន្មាន")
		e.catchUp(e.ix)
		for _, tc := range []struct{ ws, c, m string }{{wsA, a.ID, ma}, {wsB, b.ID, mb}} {
			for _, q := range []string{"srey", "sr", "តម្លៃ"} {
				r := e.search(tc.ws, q, QueryOptions{})
				for _, h := range r.Contacts {
					if h.ID != tc.c {
						t.Errorf("%q in %s found contact %s", q, tc.ws, h.ID)
					}
				}
				for _, h := range r.Messages {
					if h.ID != tc.m {
						t.Errorf("%q in %s found message %s", q, tc.ws, h.ID)
					}
				}
				if len(r.Contacts)+len(r.Messages) == 0 {
					t.Errorf("%q in %s found nothing", q, tc.ws)
				}
			}
		}
		// The same gram has unrelated digests in two workspaces.
		da, _ := e.ix.dg.digests(wsA, scopeContact, queryGrams("srey"))
		db2, _ := e.ix.dg.digests(wsB, scopeContact, queryGrams("srey"))
		if slices.Equal(da, db2) {
			t.Error("two workspaces share digests")
		}
	})
}

// Erasing a contact (row deleted, key destroyed) leaves no index row and
// nothing findable; other contacts keep theirs. Security test plan N-3, O-2.
func TestErasureRemovesIndex(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, 0)
		ws, ch := e.workspace("p1")
		gone := e.person(ch, "a", "Canaryname", "ឈ្មោះសាកល្បង")
		kept := e.person(ch, "b", "Kept", "Person")
		e.message(gone, "canarytext ពាក្យសម្ងាត់")
		e.message(kept, "canarytext too")
		e.catchUp(e.ix)
		if r := e.search(ws, "canary", QueryOptions{}); len(r.Contacts) != 1 || len(r.Messages) != 2 {
			t.Fatalf("before erasure: %+v", r)
		}
		before := e.count(`SELECT count(*) FROM search_grams`)

		e.erase(gone)
		e.catchUp(e.ix)

		if n := e.count(`SELECT count(*) FROM search_docs WHERE contact_id = ?`, gone.ID); n != 0 {
			t.Errorf("%d documents of the erased contact left", n)
		}
		if n := e.count(`SELECT count(*) FROM search_grams g WHERE NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.id = g.doc)`); n != 0 {
			t.Errorf("%d orphan postings", n)
		}
		if after := e.count(`SELECT count(*) FROM search_grams`); after >= before {
			t.Errorf("postings %d → %d: nothing removed", before, after)
		}
		for _, q := range []string{"canaryname", "ca", "សាកល្បង", "ពាក្យ"} {
			r := e.search(ws, q, QueryOptions{})
			for _, h := range r.Contacts {
				if h.ID == gone.ID {
					t.Errorf("%q still finds the erased contact", q)
				}
			}
			for _, h := range r.Messages {
				if h.ContactID == gone.ID {
					t.Errorf("%q still finds a message of the erased contact", q)
				}
			}
		}
		if r := e.search(ws, "canarytext", QueryOptions{}); len(r.Messages) != 1 || r.Messages[0].ContactID != kept.ID {
			t.Errorf("the other contact's message: %+v", r.Messages)
		}
		// No plaintext anywhere (the search tables hold integers only).
		dump := dbtest.DumpText(t, d)
		for _, canary := range []string{"anaryname", "ឈ្មោះ", "canarytext ព", "ពាក្យសម្ងាត់"} {
			if strings.Contains(dump, canary) {
				t.Errorf("%q found in the database after erasure", canary)
			}
		}
	})
}

// A message the person unsent is forgotten and not indexed again.
func TestForgetUnsent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, 0)
		ctx := context.Background()
		ws, ch := e.workspace("p1")
		c := e.person(ch, "a", "Bopha", "")
		m := e.message(c, "please delete this ប្រាប់")
		e.message(c, "please keep this")
		e.catchUp(e.ix)
		if r := e.search(ws, "delete", QueryOptions{}); len(r.Messages) != 1 {
			t.Fatalf("before: %+v", r)
		}
		// As the inbox unsends: the body resealed as deleted, and Forget,
		// in one transaction.
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			body, err := e.kr.SealContactTx(ctx, tx, msgAAD(ws, m), c.ID, []byte(`{"deleted":true}`))
			if err != nil {
				return err
			}
			if _, err := tx.NewRaw(`UPDATE messages SET body = ? WHERE id = ?`, body, m).Exec(ctx); err != nil {
				return err
			}
			return e.ix.Forget(ctx, tx, ws, m)
		})
		if err != nil {
			t.Fatal(err)
		}
		e.catchUp(e.ix)
		if r := e.search(ws, "delete", QueryOptions{}); len(r.Messages) != 0 {
			t.Errorf("unsent message found: %+v", r.Messages)
		}
		if r := e.search(ws, "please", QueryOptions{}); len(r.Messages) != 1 {
			t.Errorf("the other message: %+v", r.Messages)
		}
		if n := e.count(`SELECT count(*) FROM search_docs WHERE message_id = ?`, m); n != 0 {
			t.Errorf("%d documents of the unsent message", n)
		}
		// Forgetting twice, or a message never indexed, is fine.
		if err := e.ix.Forget(ctx, d.W, ws, m); err != nil {
			t.Error(err)
		}
	})
}

// The indexer resumes from its durable cursors after a restart, without
// duplicates or gaps, and re-running it changes nothing.
func TestIndexerResumes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, 2)
		ctx := context.Background()
		ws, ch := e.workspace("p1")
		var msgs []string
		for i, name := range []string{"Alpha", "Bravo", "Charlie", "Delta", "Echo"} {
			c := e.person(ch, name, name, "Common")
			msgs = append(msgs, e.message(c, "order number common"), e.message(c, name+" asks again"))
			_ = i
		}
		e.now = e.now.Add(time.Minute)
		if n, err := e.ix.Step(ctx); err != nil || n != 4 { // two contacts, two messages
			t.Fatalf("first step = %d, %v", n, err)
		}
		// "Crash": a new Index on the same database.
		ix := e.index(2)
		e.catchUp(ix)
		e.catchUp(e.index(3)) // and once more: nothing new
		if n := e.count(`SELECT count(*) FROM search_docs WHERE message_id IS NULL`); n != 5 {
			t.Errorf("%d contact documents, want 5", n)
		}
		if n := e.count(`SELECT count(*) FROM search_docs WHERE message_id IS NOT NULL`); n != len(msgs) {
			t.Errorf("%d message documents, want %d", n, len(msgs))
		}
		r := e.search(ws, "common", QueryOptions{Limit: 100})
		if len(r.Contacts) != 5 || len(r.Messages) != 5 {
			t.Errorf("found %d contacts and %d messages, want 5 and 5", len(r.Contacts), len(r.Messages))
		}
		// A later message is picked up from the cursor.
		late := e.message(e.person(ch, "z", "Zulu", ""), "late common")
		e.catchUp(ix)
		if r := e.search(ws, "late", QueryOptions{}); len(r.Messages) != 1 || r.Messages[0].ID != late {
			t.Errorf("late message: %+v", r.Messages)
		}
	})
}

// The background loop indexes on its own and stops when asked.
func TestStartStop(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, 0)
		ws, ch := e.workspace("p1")
		c := e.person(ch, "a", "Looped", "")
		e.now = e.now.Add(time.Hour) // past the lag; the loop reads the clock, the test does not move it
		ix := New(d, e.kr, e.options(Options{Now: func() time.Time { return e.now.Add(time.Hour) }, Interval: 10 * time.Millisecond}))
		ctx := context.Background()
		ix.Start(ctx)
		ix.Start(ctx) // no-op
		deadline := time.Now().Add(30 * time.Second)
		for {
			r, err := ix.Search(ctx, ws, "looped", QueryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Contacts) == 1 && r.Contacts[0].ID == c.ID {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the loop never indexed the contact")
			}
			time.Sleep(10 * time.Millisecond)
		}
		ix.Stop()
		ix.Stop() // no-op
	})
}

func TestInvalidQueries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, 0)
		ws, _ := e.workspace("p1")
		for _, q := range []string{"", "   ", "\u0301", strings.Repeat("ក", MaxQueryRunes+1)} {
			if _, err := e.ix.Search(context.Background(), ws, q, QueryOptions{}); !errors.Is(err, ErrInvalid) {
				t.Errorf("%q: err = %v, want ErrInvalid", q, err)
			}
		}
		if _, err := e.ix.Search(context.Background(), "", "abc", QueryOptions{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("no workspace: err = %v", err)
		}
		if _, err := e.ix.Search(context.Background(), ws, strings.Repeat("ក", MaxQueryRunes), QueryOptions{}); err != nil {
			t.Errorf("longest query: %v", err)
		}
	})
}

var admin = audit.Actor{UserID: "user-admin"}

// The walk over the rarest gram is bounded: when every gram is common and
// only old documents match, the results say they may be incomplete.
func TestBoundedWalk(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, 0)
		ws, ch := e.workspace("p1")
		old := e.person(ch, "a", "Abcd", "")
		for i, name := range []string{"Abcz", "Zbcd", "Abcz", "Zbcd"} { // "abc" and "bcd" in three contacts each
			e.person(ch, fmt.Sprintf("n%d", i), name, "")
		}
		e.catchUp(e.ix)
		e.ix.scanCap = 2
		r := e.search(ws, "abcd", QueryOptions{}) // the two newest with "abc" lack "bcd"
		if !r.Partial || len(r.Contacts) != 0 {
			t.Errorf("not partial: %+v", r)
		}
		e.ix.scanCap = scanCap
		r = e.search(ws, "abcd", QueryOptions{})
		if r.Partial || len(r.Contacts) != 1 || r.Contacts[0].ID != old.ID {
			t.Errorf("unbounded: %+v", r)
		}
	})
}

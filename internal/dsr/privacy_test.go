package dsr_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/dsr"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
	"github.com/parleyhq/parley/internal/validate"
)

// Promise P-40 and security.md §3.O O-9: a restricted, objecting,
// consent-withdrawn or minor contact gets nothing from automation — a
// flow's, the AI agent's or a broadcast's message is refused by the
// inbox's one outbound path with inbox.ErrRestricted and nothing is
// stored — while a person on the team can still reply.
func TestBlockedContactGetsNoAutomatedSend(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		cases := []struct {
			name, why string
			block     func(t *testing.T, contactID string)
		}{
			{"restricted", dsr.BlockRestricted, func(t *testing.T, id string) {
				must[dsr.Flags](t)(e.svc.SetFlags(ctx, agent, e.ws, id, dsr.FlagsChange{Restricted: ptr(true)}))
			}},
			{"objected", dsr.BlockObjected, func(t *testing.T, id string) {
				must[dsr.Flags](t)(e.svc.SetFlags(ctx, agent, e.ws, id, dsr.FlagsChange{Objected: ptr(true)}))
			}},
			{"minor", dsr.BlockMinor, func(t *testing.T, id string) {
				must[dsr.Flags](t)(e.svc.SetFlags(ctx, agent, e.ws, id, dsr.FlagsChange{Minor: ptr(true)}))
			}},
			{"consent withdrawn on the channel", dsr.BlockWithdrawn, func(t *testing.T, id string) {
				must[dsr.Consent](t)(e.svc.RecordConsent(ctx, agent, e.ws, id, dsr.NewConsent{ChannelID: e.ch.ID, State: dsr.ConsentGiven, Source: "form"}))
				must[dsr.Consent](t)(e.svc.RecordConsent(ctx, agent, e.ws, id, dsr.NewConsent{ChannelID: e.ch.ID, State: dsr.ConsentWithdrawn, Source: "message"}))
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				cid, conv := e.person(t, "p-"+c.why, "hi")
				// Before: automation may write to them.
				if err := e.automation(cid, inbox.SenderFlow); err != nil {
					t.Fatalf("before: %v", err)
				}
				c.block(t, cid)
				if why := must[string](t)(dsr.Blocked(ctx, d.R, e.ws, cid)); why != c.why {
					t.Fatalf("blocked because %q, want %q", why, c.why)
				}
				// The webhook path's prepared gate answers the same, also
				// inside a transaction.
				gate := dsr.NewGate(d)
				if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
					why, err := gate.Blocked(ctx, tx, e.ws, cid)
					if err == nil && why != c.why {
						err = fmt.Errorf("gate: blocked because %q, want %q", why, c.why)
					}
					return err
				}); err != nil {
					t.Fatal(err)
				}
				if err := gate.Automation(ctx, d.R, e.ws, cid, inbox.SenderIntegration); !errors.Is(err, inbox.ErrRestricted) {
					t.Errorf("gate, integration: %v, want ErrRestricted", err)
				}
				for _, s := range []inbox.SenderType{inbox.SenderFlow, inbox.SenderAI, inbox.SenderBroadcast} {
					if err := e.automation(cid, s); !errors.Is(err, inbox.ErrRestricted) {
						t.Errorf("%s: %v, want ErrRestricted", s, err)
					}
					_, err := e.inbox.Reply(ctx, inbox.Author{Type: s, ID: "auto"}, e.ws, conv, channel.Content{Text: "offer"})
					if !errors.Is(err, inbox.ErrRestricted) {
						t.Errorf("reply as %s: %v, want ErrRestricted", s, err)
					}
				}
				if n := e.outbound(t, conv); n != 0 {
					t.Fatalf("%d automated messages stored", n)
				}
				// A flow resumed by a job (Automate) is skipped, not an error.
				err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
					_, err := e.inbox.Automate(ctx, tx, e.ws, conv, inbox.Author{Type: inbox.SenderFlow, ID: "f1"},
						inbox.Response{Replies: []channel.Content{{Text: "a delayed step"}}})
					return err
				})
				if err != nil || e.outbound(t, conv) != 0 {
					t.Fatalf("automate: %v, %d stored", err, e.outbound(t, conv))
				}
				if err := e.automation(cid, inbox.SenderAgent); err != nil {
					t.Fatalf("an agent is refused: %v", err)
				}
				if _, err := e.inbox.Reply(ctx, inbox.Author{Type: inbox.SenderAgent, ID: "u-agent"}, e.ws, conv, channel.Content{Text: "Hello, I am here"}); err != nil {
					t.Fatalf("agent reply: %v", err)
				}
				if n := e.outbound(t, conv); n != 1 {
					t.Fatalf("agent reply stored %d messages", n)
				}
			})
		}
	})
}

func (e *env) automation(contactID string, s inbox.SenderType) error {
	return dsr.Automation(ctx, e.d.R, e.ws, contactID, s)
}

func (e *env) outbound(t *testing.T, conv string) int {
	t.Helper()
	var n int
	if err := e.d.R.NewRaw(`SELECT count(*) FROM messages WHERE conversation_id = ? AND direction = 'out'`, conv).Scan(ctx, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Promise P-40: consent is per contact and channel, the latest record of a
// channel is its state now; giving it again lifts a withdrawal; a
// withdrawal for every channel is not lifted by consent on one channel.
func TestConsentHistory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		cid, _ := e.person(t, "p-consent", "hi")
		rec := func(ch string, st dsr.ConsentState) {
			t.Helper()
			must[dsr.Consent](t)(e.svc.RecordConsent(ctx, agent, e.ws, cid, dsr.NewConsent{ChannelID: ch, State: st, Source: "verbal"}))
			e.clock.Advance(1)
		}
		blocked := func() string { t.Helper(); return must[string](t)(dsr.Blocked(ctx, d.R, e.ws, cid)) }
		rec(e.ch.ID, dsr.ConsentWithdrawn)
		if blocked() != dsr.BlockWithdrawn {
			t.Fatal("withdrawal did not block")
		}
		rec(e.ch.ID, dsr.ConsentGiven)
		if blocked() != "" {
			t.Fatal("consent given again still blocks")
		}
		rec("", dsr.ConsentWithdrawn)
		rec(e.ch.ID, dsr.ConsentGiven)
		if blocked() != dsr.BlockWithdrawn {
			t.Fatal("consent on one channel lifted a withdrawal for all")
		}
		hist := must[[]dsr.Consent](t)(e.svc.Consents(ctx, e.ws, cid))
		if len(hist) != 4 || hist[0].State != dsr.ConsentWithdrawn || hist[0].Actor != "user:u-agent" || hist[0].Source != "verbal" || hist[0].At.IsZero() {
			t.Fatalf("history %+v", hist)
		}
		cur := dsr.CurrentConsent(hist)
		if cur[""] != dsr.ConsentWithdrawn || cur[e.ch.ID] != dsr.ConsentGiven {
			t.Errorf("current %v", cur)
		}

		// Bad input: named field, nothing stored.
		other := fixture.Workspace(t, d, e.kr)
		for _, c := range []struct {
			name  string
			in    dsr.NewConsent
			field string
		}{
			{"state", dsr.NewConsent{State: "maybe", Source: "form"}, "state"},
			{"source", dsr.NewConsent{State: dsr.ConsentGiven, Source: "telepathy"}, "source"},
			{"foreign channel", dsr.NewConsent{State: dsr.ConsentGiven, Source: "form", ChannelID: "not-a-channel"}, "channel_id"},
			{"given answers a request", dsr.NewConsent{State: dsr.ConsentGiven, Source: "form", RequestID: "x"}, "request_id"},
		} {
			_, err := e.svc.RecordConsent(ctx, agent, e.ws, cid, c.in)
			if v, ok := validate.As(err); !ok || v.Field != c.field || !errors.Is(err, dsr.ErrInvalid) {
				t.Errorf("%s: %v", c.name, err)
			}
		}
		if _, err := e.svc.RecordConsent(ctx, agent, other, cid, dsr.NewConsent{State: dsr.ConsentGiven, Source: "form"}); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another workspace's contact: %v", err)
		}
		if n := len(must[[]dsr.Consent](t)(e.svc.Consents(ctx, e.ws, cid))); n != 4 {
			t.Errorf("refused changes stored: %d records", n)
		}
	})
}

// An operation naming a request completes it in the same transaction; a
// request of another kind or contact is refused and nothing changes, and
// so is a flags change that does not do what the request asked (a
// restriction needs Restricted, an objection Objected).
func TestOperationsAnswerRequests(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		cid, _ := e.person(t, "p-answer", "hi")
		other, _ := e.person(t, "p-other", "hi")
		restrict := must[dsr.Request](t)(e.svc.Create(ctx, agent, e.ws, dsr.NewRequest{ContactID: cid, Kind: dsr.KindRestriction}))
		access := must[dsr.Request](t)(e.svc.Create(ctx, agent, e.ws, dsr.NewRequest{ContactID: cid, Kind: dsr.KindAccess}))
		elsewhere := must[dsr.Request](t)(e.svc.Create(ctx, agent, e.ws, dsr.NewRequest{ContactID: other, Kind: dsr.KindRestriction}))
		for _, id := range []string{access.ID, elsewhere.ID, "unknown"} {
			_, err := e.svc.SetFlags(ctx, agent, e.ws, cid, dsr.FlagsChange{Restricted: ptr(true), RequestID: id})
			if v, ok := validate.As(err); !ok || v.Field != "request_id" {
				t.Errorf("answering %s: %v", id, err)
			}
		}
		if f := must[dsr.Flags](t)(e.svc.Flags(ctx, e.ws, cid)); f.Restricted {
			t.Fatal("a refused change was applied")
		}
		if _, err := e.svc.SetFlags(ctx, agent, e.ws, cid, dsr.FlagsChange{}); !errors.Is(err, dsr.ErrInvalid) {
			t.Errorf("nothing to change: %v", err)
		}
		// A change that does not restrict (or object) does not answer a
		// restriction (or objection) request: refused with words, nothing
		// changed, the request still open.
		object := must[dsr.Request](t)(e.svc.Create(ctx, agent, e.ws, dsr.NewRequest{ContactID: cid, Kind: dsr.KindObjection}))
		for _, tc := range []struct {
			req   dsr.Request
			ch    dsr.FlagsChange
			field string
		}{
			{restrict, dsr.FlagsChange{Minor: ptr(true)}, "restricted"},
			{restrict, dsr.FlagsChange{Restricted: ptr(false), Objected: ptr(true)}, "restricted"},
			{object, dsr.FlagsChange{Restricted: ptr(true)}, "objected"},
		} {
			tc.ch.RequestID = tc.req.ID
			_, err := e.svc.SetFlags(ctx, agent, e.ws, cid, tc.ch)
			if v, ok := validate.As(err); !ok || v.Field != tc.field || v.Message == "" {
				t.Errorf("answering the %s request with %+v: %v", tc.req.Kind, tc.ch, err)
			}
			if r := must[dsr.Request](t)(e.svc.Get(ctx, e.ws, tc.req.ID)); r.State != dsr.StateReceived {
				t.Errorf("the %s request is %s", tc.req.Kind, r.State)
			}
		}
		if f := must[dsr.Flags](t)(e.svc.Flags(ctx, e.ws, cid)); f.Restricted || f.Objected || f.Minor {
			t.Fatalf("a refused change was applied: %+v", f)
		}
		f := must[dsr.Flags](t)(e.svc.SetFlags(ctx, agent, e.ws, cid, dsr.FlagsChange{Restricted: ptr(true), RequestID: restrict.ID}))
		if !f.Restricted || f.Objected || f.Minor || f.UpdatedBy != "user:u-agent" {
			t.Fatalf("flags %+v", f)
		}
		if r := must[dsr.Request](t)(e.svc.Get(ctx, e.ws, restrict.ID)); r.State != dsr.StateCompleted {
			t.Fatalf("request %s", r.State)
		}
		must[dsr.Flags](t)(e.svc.SetFlags(ctx, agent, e.ws, cid, dsr.FlagsChange{Objected: ptr(true), RequestID: object.ID}))
		if r := must[dsr.Request](t)(e.svc.Get(ctx, e.ws, object.ID)); r.State != dsr.StateCompleted {
			t.Fatalf("objection %s", r.State)
		}
		// Lifting one flag leaves the others.
		f = must[dsr.Flags](t)(e.svc.SetFlags(ctx, agent, e.ws, cid, dsr.FlagsChange{Minor: ptr(true)}))
		f = must[dsr.Flags](t)(e.svc.SetFlags(ctx, agent, e.ws, cid, dsr.FlagsChange{Restricted: ptr(false)}))
		if f.Restricted || !f.Minor || !f.Objected {
			t.Fatalf("flags %+v", f)
		}
	})
}

// Merging two contacts keeps every protection: the gone contact's consent
// history and requests move to the kept one and a flag either had stays
// set, so a merge never re-enables automation for someone who stopped it.
func TestMergeKeepsProtections(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		keep, _ := e.person(t, "p-keep", "hi")
		goneC := must[contact.Contact](t)(e.contacts.Create(ctx, nil, e.ws, contact.NewContact{FirstName: "Gone", By: byAg}))
		gone := goneC.ID
		must[dsr.Flags](t)(e.svc.SetFlags(ctx, agent, e.ws, gone, dsr.FlagsChange{Minor: ptr(true)}))
		must[dsr.Consent](t)(e.svc.RecordConsent(ctx, agent, e.ws, gone, dsr.NewConsent{State: dsr.ConsentWithdrawn, Source: "email"}))
		req := must[dsr.Request](t)(e.svc.Create(ctx, agent, e.ws, dsr.NewRequest{ContactID: gone, Kind: dsr.KindObjection}))
		must[dsr.Flags](t)(e.svc.SetFlags(ctx, agent, e.ws, keep, dsr.FlagsChange{Objected: ptr(true)}))
		if _, err := e.contacts.Merge(ctx, agent, e.ws, keep, gone, e.svc.MoveContact); err != nil {
			t.Fatal(err)
		}
		f := must[dsr.Flags](t)(e.svc.Flags(ctx, e.ws, keep))
		if !f.Minor || !f.Objected || f.Restricted {
			t.Errorf("flags after the merge %+v", f)
		}
		if h := must[[]dsr.Consent](t)(e.svc.Consents(ctx, e.ws, keep)); len(h) != 1 || h[0].State != dsr.ConsentWithdrawn {
			t.Errorf("consents after the merge %+v", h)
		}
		if r := must[dsr.Request](t)(e.svc.Get(ctx, e.ws, req.ID)); r.ContactID != keep {
			t.Errorf("the request names %q", r.ContactID)
		}
	})
}

// Promise P-40: consent given or withdrawn on all channels supersedes
// every earlier record, of each channel too; a record for all channels is
// superseded only by a later one for all channels. Blocked (plain and
// prepared) and CurrentConsent agree on every history: automation is
// blocked exactly when a record in force is a withdrawal.
func TestConsentForAllChannelsSupersedes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		x := e.ch.ID
		y := fixture.Messenger(t, e.channels, e.ws, fmt.Sprintf("7%014d", pageSeq.Add(1)), "EAA-SECOND-PAGE").ID
		gate := dsr.NewGate(d)
		if err := gate.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		type rec struct {
			ch string
			st dsr.ConsentState
		}
		W, G := dsr.ConsentWithdrawn, dsr.ConsentGiven
		for i, tc := range []struct {
			name    string
			history []rec
			blocked bool
			current map[string]dsr.ConsentState
		}{
			{"given on all lifts a channel's withdrawal", []rec{{x, W}, {"", G}}, false, map[string]dsr.ConsentState{"": G}},
			{"given on all lifts every channel's withdrawal", []rec{{x, W}, {y, W}, {"", G}}, false, map[string]dsr.ConsentState{"": G}},
			{"given on one channel does not lift a withdrawal on all", []rec{{"", W}, {x, G}}, true, map[string]dsr.ConsentState{"": W, x: G}},
			{"given on all lifts a withdrawal on all", []rec{{"", W}, {"", G}}, false, map[string]dsr.ConsentState{"": G}},
			{"a later withdrawal on one channel stands", []rec{{"", G}, {x, W}}, true, map[string]dsr.ConsentState{"": G, x: W}},
			{"withdrawn again after given on all", []rec{{x, W}, {"", G}, {x, W}}, true, map[string]dsr.ConsentState{"": G, x: W}},
			{"withdrawn on all replaces consent on each", []rec{{x, G}, {y, G}, {"", W}}, true, map[string]dsr.ConsentState{"": W}},
			{"then given on all", []rec{{"", W}, {x, G}, {"", G}}, false, map[string]dsr.ConsentState{"": G}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cid, _ := e.person(t, fmt.Sprintf("p-all-%d", i), "hi")
				for _, r := range tc.history {
					must[dsr.Consent](t)(e.svc.RecordConsent(ctx, agent, e.ws, cid, dsr.NewConsent{ChannelID: r.ch, State: r.st, Source: "verbal"}))
					e.clock.Advance(time.Minute)
				}
				want := ""
				if tc.blocked {
					want = dsr.BlockWithdrawn
				}
				if got := must[string](t)(dsr.Blocked(ctx, d.R, e.ws, cid)); got != want {
					t.Errorf("Blocked %q, want %q", got, want)
				}
				if got := must[string](t)(gate.Blocked(ctx, d.R, e.ws, cid)); got != want {
					t.Errorf("Gate.Blocked %q, want %q", got, want)
				}
				cur := dsr.CurrentConsent(must[[]dsr.Consent](t)(e.svc.Consents(ctx, e.ws, cid)))
				if diff := cmp.Diff(tc.current, cur); diff != "" {
					t.Errorf("CurrentConsent (-want +got):\n%s", diff)
				}
				if s := must[dsr.Summary](t)(e.svc.Summary(ctx, e.ws, cid)); s.Blocked != want || !cmp.Equal(s.Consent, tc.current) {
					t.Errorf("summary: blocked %q, consent %v", s.Blocked, s.Consent)
				}
			})
		}
	})
}

package contact_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// agent is the member merging in these tests (byAgent as an author).
var agent = audit.Actor{UserID: "user-agent"}

// noMove is a Mover for tests without conversations; it records what it
// was told.
func noMove(got *[]contact.Merging) contact.Mover {
	return func(_ context.Context, _ bun.Tx, m contact.Merging) error {
		if got != nil {
			*got = append(*got, m)
		}
		return nil
	}
}

// merge merges gone into keep or fails the test.
func (e *env) merge(t *testing.T, ws, keep, gone string) contact.Contact {
	t.Helper()
	c, err := e.store.Merge(context.Background(), agent, ws, keep, gone, noMove(nil))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) set(t *testing.T, ws, id, key, raw string) {
	t.Helper()
	if _, err := e.store.SetField(context.Background(), nil, ws, id, key, raw, contact.SetOptions{By: byAgent}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) tag(t *testing.T, ws, id string, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, _, err := e.store.TagContact(context.Background(), nil, ws, id, n, true, byAgent); err != nil {
			t.Fatal(err)
		}
	}
}

// Merging: the kept contact's values win and the gone one's fill the gaps,
// re-sealed under the kept contact's key; tags are the union; the stage
// and names come from the gone contact when the kept one has none; the gone
// contact is deleted and its key destroyed, so what was sealed under it no
// longer opens (P-33).
func TestMergeContactData(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		e.defineAll(t, ws)
		a, b := e.page(t, ws, "p-a"), e.page(t, ws, "p-b")
		keep, _ := e.upsert(t, a, "psid-a")
		gone, _ := e.upsert(t, b, "psid-b")
		if err := e.store.SetProfile(ctx, ws, gone.ID, channel.Profile{FirstName: "Dara", LastName: "Sok", Locale: "km_KH", PictureURL: "https://pic/g"}, contact.ProfileFetched); err != nil {
			t.Fatal(err)
		}
		e.set(t, ws, keep.ID, "note", "kept note")
		e.set(t, ws, keep.ID, "city", "Siem Reap")
		e.set(t, ws, gone.ID, "note", "gone note")
		e.set(t, ws, gone.ID, "phone", "+85512345678")
		e.set(t, ws, gone.ID, "age", "42")
		e.tag(t, ws, keep.ID, "VIP")
		e.tag(t, ws, gone.ID, "vip", "Lead")
		if _, err := e.store.SetStage(ctx, nil, ws, gone.ID, "Qualified", byAgent); err != nil {
			t.Fatal(err)
		}
		var goneSealed []byte
		if err := d.R.NewRaw(`SELECT first_name FROM contacts WHERE id = ?`, gone.ID).Scan(ctx, &goneSealed); err != nil {
			t.Fatal(err)
		}

		e.now = e.now.Add(time.Hour)
		var moved []contact.Merging
		kept, err := e.store.Merge(ctx, agent, ws, keep.ID, gone.ID, noMove(&moved))
		if err != nil {
			t.Fatal(err)
		}
		wantMove := []contact.Merging{{WorkspaceID: ws, KeepID: keep.ID, GoneID: gone.ID, By: byAgent, At: e.now}}
		if diff := cmp.Diff(wantMove, moved); diff != "" {
			t.Errorf("the mover was told (-want +got):\n%s", diff)
		}
		if kept.ID != keep.ID || kept.ChannelID != a.ID || kept.ExternalID != "psid-a" || kept.DisplayName() != "Dara Sok" ||
			kept.PictureURL != "https://pic/g" || kept.Locale != "km_KH" || kept.Stage != "Qualified" || !kept.UpdatedAt.Equal(e.now) {
			t.Errorf("kept contact = %+v", kept)
		}
		vals, err := e.store.FieldValues(ctx, ws, keep.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for k, v := range vals {
			got[k] = v.Text
		}
		want := map[string]string{"note": "kept note", "city": "Siem Reap", "phone": "+85512345678", "age": "42"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("merged values (-want +got):\n%s", diff)
		}
		if ids := e.byPhone(t, ws, "+85512345678"); !slices.Equal(ids, []string{keep.ID}) {
			t.Errorf("ByPhone after the merge = %v", ids)
		}
		tags, err := e.store.ContactTags(ctx, ws, keep.ID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tg := range tags {
			names = append(names, tg.Name)
		}
		if !slices.Equal(names, []string{"Lead", "VIP"}) {
			t.Errorf("merged tags = %v", names)
		}
		if _, err := e.store.Get(ctx, ws, gone.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Get of the gone contact: %v", err)
		}
		var rows int
		if err := d.R.NewRaw(`SELECT (SELECT count(*) FROM contact_keys WHERE contact_id = ?) + (SELECT count(*) FROM contact_field_values WHERE contact_id = ?)
			+ (SELECT count(*) FROM contact_tags WHERE contact_id = ?)`, gone.ID, gone.ID, gone.ID).Scan(ctx, &rows); err != nil || rows != 0 {
			t.Errorf("the gone contact left %d rows, %v", rows, err)
		}
		var audited int
		if err := d.R.NewRaw(`SELECT count(*) FROM audit_log WHERE workspace_id = ? AND action = ? AND target_id = ? AND actor_user_id = ?`,
			ws, contact.ActionMerge, keep.ID, agent.UserID).Scan(ctx, &audited); err != nil || audited != 1 {
			t.Errorf("merge audited %d times, %v", audited, err)
		}
		_, err = e.kr.OpenContact(ctx, keyring.AAD{Workspace: ws, Table: "contacts", Column: "first_name", Row: gone.ID}, gone.ID, goneSealed)
		if !errors.Is(err, keyring.ErrKeyDestroyed) {
			t.Errorf("the gone contact's sealed name still opens: %v", err)
		}
	})
}

// The kept contact's names win when it has some; a channel-less kept
// contact takes the gone one's first identity as its own.
func TestMergeIntoChannelLessContact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		a := e.page(t, ws, "p-a")
		keep := e.create(t, ws, "Imported", "Lead")
		gone, _ := e.upsert(t, a, "psid-a")
		if err := e.store.SetProfile(ctx, ws, gone.ID, channel.Profile{FirstName: "Dara"}, contact.ProfileFetched); err != nil {
			t.Fatal(err)
		}
		kept := e.merge(t, ws, keep.ID, gone.ID)
		if kept.ChannelID != a.ID || kept.ExternalID != "psid-a" || kept.DisplayName() != "Imported Lead" || kept.ProfileState != contact.ProfileFetched {
			t.Errorf("kept = %+v", kept)
		}
		ids, err := e.store.Identities(ctx, ws, keep.ID)
		if err != nil || len(ids) != 1 || ids[0].Merged || ids[0].ExternalID != "psid-a" {
			t.Errorf("identities = %+v, %v", ids, err)
		}
		// The hot path finds it with its one statement.
		c, created := e.upsert(t, a, "psid-a")
		if created || c.ID != keep.ID {
			t.Errorf("upsert after the merge = %+v, created %v", c, created)
		}
	})
}

// Consent (P-40): the last opt-in and the last withdrawal of either are
// kept; a withdrawal as late as or later than the last opt-in keeps the
// person unsubscribed.
func TestMergeConsent(t *testing.T) {
	type event struct {
		at time.Duration // after the epoch
		on bool
	}
	for _, tc := range []struct {
		name       string
		keep, gone []event
		want       bool
		in, out    time.Duration // -1: none
	}{
		{"neither", nil, nil, false, -1, -1},
		{"kept subscribed", []event{{1, true}}, nil, true, 1, -1},
		{"gone subscribed", nil, []event{{1, true}}, true, 1, -1},
		{"gone withdrew after the kept opt-in", []event{{2, true}}, []event{{1, true}, {3, false}}, false, 2, 3},
		{"kept withdrew after the gone opt-in", []event{{1, true}, {3, false}}, []event{{2, true}}, false, 2, 3},
		{"opt-in after every withdrawal", []event{{1, true}, {2, false}}, []event{{3, true}}, true, 3, 2},
		{"both withdrew", []event{{1, true}, {2, false}}, []event{{3, true}, {4, false}}, false, 3, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := dbtest.SQLite(t)
			e := setup(t, d)
			ctx := context.Background()
			ws := e.workspace(t)
			keep, gone := e.create(t, ws, "K", ""), e.create(t, ws, "G", "")
			for _, c := range []struct {
				id     string
				events []event
			}{{keep.ID, tc.keep}, {gone.ID, tc.gone}} {
				for _, ev := range c.events {
					e.now = fixtureAt(ev.at)
					if _, err := e.store.SetSubscribed(ctx, nil, ws, c.id, ev.on, byAgent); err != nil {
						t.Fatal(err)
					}
				}
			}
			e.now = fixtureAt(10)
			kept := e.merge(t, ws, keep.ID, gone.ID)
			if kept.Subscribed != tc.want || !kept.SubscribedAt.Equal(optAt(tc.in)) || !kept.UnsubscribedAt.Equal(optAt(tc.out)) {
				t.Errorf("merged consent = %v in %v out %v; want %v in %v out %v",
					kept.Subscribed, kept.SubscribedAt, kept.UnsubscribedAt, tc.want, optAt(tc.in), optAt(tc.out))
			}
		})
	}
}

func fixtureAt(h time.Duration) time.Time {
	return time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC).Add(h * time.Hour)
}

func optAt(h time.Duration) time.Time {
	if h < 0 {
		return time.Time{}
	}
	return fixtureAt(h)
}

// Refused merges change nothing at all.
func TestMergeRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		e.defineAll(t, ws)
		a, b := e.page(t, ws, "p-a"), e.page(t, ws, "p-b")
		one, _ := e.upsert(t, a, "psid-1")
		two, _ := e.upsert(t, a, "psid-2") // another person on the same Page
		three, _ := e.upsert(t, b, "psid-3")
		e.set(t, ws, two.ID, "note", "two")
		e.tag(t, ws, two.ID, "x")
		e.merge(t, ws, three.ID, two.ID) // three now has an identity on a too
		otherWS := e.workspace(t)
		stranger := e.create(t, otherWS, "S", "")
		extra := e.create(t, ws, "", "")
		before := dbtest.DumpText(t, d)

		move := []contact.Mover{noMove(nil)}
		boom := func(context.Context, bun.Tx, contact.Merging) error { return errors.New("boom") }
		for _, tc := range []struct {
			name       string
			keep, gone string
			actor      audit.Actor
			movers     []contact.Mover
			want       error
		}{
			{"itself", one.ID, one.ID, agent, move, contact.ErrInvalid},
			{"same page", one.ID, three.ID, agent, move, contact.ErrInvalid},
			{"same page, merged identity kept", three.ID, one.ID, agent, move, contact.ErrInvalid},
			{"another workspace's", one.ID, stranger.ID, agent, move, db.ErrNotFound},
			{"unknown", one.ID, "no-such-contact", agent, move, db.ErrNotFound},
			{"no mover", one.ID, extra.ID, agent, nil, nil},
			{"no author", one.ID, extra.ID, audit.Actor{}, move, nil},
			{"mover fails", three.ID, extra.ID, agent, []contact.Mover{noMove(nil), boom}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.store.Merge(ctx, tc.actor, ws, tc.keep, tc.gone, tc.movers...)
				if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				if after := dbtest.DumpText(t, d); after != before {
					t.Error("a refused merge changed the database")
				}
			})
		}
	})
}

package contact_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-25: a lead has a stage, set by a person or a flow, with who
// set it and since when; setting the same stage again keeps "since when".
func TestSetStage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ctx := context.Background()
		c, _ := e.upsert(t, e.page(t, ws, "p-s"), "psid-s")
		if got, err := e.store.Get(ctx, ws, c.ID); err != nil || got.Stage != "" || !got.StageUpdatedAt.IsZero() || got.StageBy != (contact.By{}) {
			t.Fatalf("a new contact: %+v, %v", got, err)
		}

		// Inside a flow's transaction; a rollback keeps nothing.
		errBoom := errors.New("boom")
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if _, err := e.store.SetStage(ctx, tx, ws, c.ID, "Lost", byFlow); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatal(err)
		}
		if got, _ := e.store.Get(ctx, ws, c.ID); got.Stage != "" {
			t.Fatalf("stage after a rollback = %q", got.Stage)
		}

		e.now = e.now.Add(time.Hour)
		entered := e.now
		if changed, err := e.store.SetStage(ctx, nil, ws, c.ID, "  Qualified lead ", byFlow); err != nil || !changed {
			t.Fatalf("SetStage = %v, %v", changed, err)
		}
		e.now = e.now.Add(time.Hour)
		if changed, err := e.store.SetStage(ctx, nil, ws, c.ID, "Qualified lead", byAgent); err != nil || changed {
			t.Errorf("the same stage again = %v, %v", changed, err)
		}
		got, err := e.store.Get(ctx, ws, c.ID)
		if err != nil || got.Stage != "Qualified lead" || got.StageBy != byFlow || !got.StageUpdatedAt.Equal(entered) {
			t.Errorf("after SetStage: stage %q by %v at %v, %v", got.Stage, got.StageBy, got.StageUpdatedAt, err)
		}

		// Bad stages name the field and change nothing.
		for _, bad := range []string{strings.Repeat("x", contact.MaxStage+1), "two\nlines", "bad\xff", "tab\there"} {
			_, err := e.store.SetStage(ctx, nil, ws, c.ID, bad, byAgent)
			wantInvalid(t, err, "stage")
		}
		if _, err := e.store.SetStage(ctx, nil, ws, c.ID, "Won", contact.By{}); err == nil {
			t.Error("a stage without an author was accepted")
		}
		if _, err := e.store.SetStage(ctx, nil, ws, "no-such-contact", "Won", byAgent); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("unknown contact: %v", err)
		}
		if got, _ := e.store.Get(ctx, ws, c.ID); got.Stage != "Qualified lead" {
			t.Errorf("refused stages changed it to %q", got.Stage)
		}

		// "" takes the contact out of any stage.
		if changed, err := e.store.SetStage(ctx, nil, ws, c.ID, " ", byAgent); err != nil || !changed {
			t.Errorf("clearing = %v, %v", changed, err)
		}
		if got, _ := e.store.Get(ctx, ws, c.ID); got.Stage != "" || got.StageBy != byAgent || !got.StageUpdatedAt.Equal(e.now) {
			t.Errorf("after clearing: %+v", got)
		}
		var stored *string
		if err := d.R.NewRaw(`SELECT stage FROM contacts WHERE id = ?`, c.ID).Scan(ctx, &stored); err != nil || stored != nil {
			t.Errorf("a cleared stage is stored as %v, want NULL (%v)", stored, err)
		}
	})
}

// Promises P-26 and P-40: nobody is subscribed to broadcasts until they
// opt in; opting in and withdrawing are recorded with their time and
// author.
func TestSetSubscribed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ctx := context.Background()
		c, _ := e.upsert(t, e.page(t, ws, "p-sub"), "psid-sub")
		got, err := e.store.Get(ctx, ws, c.ID)
		if err != nil || got.Subscribed || !got.SubscribedAt.IsZero() || !got.UnsubscribedAt.IsZero() {
			t.Fatalf("a new contact is subscribed: %+v, %v", got, err)
		}

		if changed, err := e.store.SetSubscribed(ctx, nil, ws, c.ID, false, byAgent); err != nil || changed {
			t.Errorf("unsubscribing someone not subscribed = %v, %v", changed, err)
		}
		e.now = e.now.Add(time.Hour)
		optIn := e.now
		if changed, err := e.store.SetSubscribed(ctx, nil, ws, c.ID, true, byFlow); err != nil || !changed {
			t.Fatalf("subscribe = %v, %v", changed, err)
		}
		e.now = e.now.Add(time.Hour)
		if changed, err := e.store.SetSubscribed(ctx, nil, ws, c.ID, true, byAgent); err != nil || changed {
			t.Errorf("subscribing twice = %v, %v", changed, err)
		}
		got, _ = e.store.Get(ctx, ws, c.ID)
		want := struct {
			On       bool
			At, Off  time.Time
			By       contact.By
			Modified time.Time
		}{true, optIn, time.Time{}, byFlow, optIn}
		if diff := cmp.Diff(want, struct {
			On       bool
			At, Off  time.Time
			By       contact.By
			Modified time.Time
		}{got.Subscribed, got.SubscribedAt, got.UnsubscribedAt, got.SubscriptionBy, got.UpdatedAt}); diff != "" {
			t.Errorf("after opting in (-want +got):\n%s", diff)
		}

		e.now = e.now.Add(time.Hour)
		optOut := e.now
		if changed, err := e.store.SetSubscribed(ctx, nil, ws, c.ID, false, byAgent); err != nil || !changed {
			t.Fatalf("unsubscribe = %v, %v", changed, err)
		}
		got, _ = e.store.Get(ctx, ws, c.ID)
		if got.Subscribed || !got.SubscribedAt.Equal(optIn) || !got.UnsubscribedAt.Equal(optOut) || got.SubscriptionBy != byAgent {
			t.Errorf("after withdrawing: %+v", got)
		}

		if _, err := e.store.SetSubscribed(ctx, nil, ws, "no-such-contact", true, byAgent); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("unknown contact: %v", err)
		}
		if _, err := e.store.SetSubscribed(ctx, nil, ws, c.ID, true, contact.By{Kind: "robot"}); err == nil {
			t.Error("an unknown author was accepted")
		}
	})
}

// Promise P-03: stage and subscription of one workspace's contact cannot
// be changed through another workspace.
func TestCRMIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		wsA, wsB := e.workspace(t), e.workspace(t)
		ca, _ := e.upsert(t, e.page(t, wsA, "p-ca"), "psid-ca")
		if _, err := e.store.SetStage(ctx, nil, wsB, ca.ID, "Hijacked", byAgent); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("B sets A's contact's stage: %v", err)
		}
		if _, err := e.store.SetSubscribed(ctx, nil, wsB, ca.ID, true, byAgent); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("B subscribes A's contact: %v", err)
		}
		if got, _ := e.store.Get(ctx, wsA, ca.ID); got.Stage != "" || got.Subscribed {
			t.Errorf("A's contact changed: %+v", got)
		}
	})
}

// A form editing several values saves all of them or, when one is
// refused, none.
func TestApplyFields(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ctx := context.Background()
		c, _ := e.upsert(t, e.page(t, ws, "p-af"), "psid-af")
		e.defineAll(t, ws)
		o := contact.SetOptions{By: byAgent, Region: "KH"}
		if _, err := e.store.SetField(ctx, nil, ws, c.ID, "note", "keep me", o); err != nil {
			t.Fatal(err)
		}

		err := e.store.ApplyFields(ctx, ws, c.ID, []contact.FieldChange{
			{Key: "age", Raw: "41"}, {Key: "note", Clear: true}, {Key: "birthday", Raw: "not a date"},
		}, o)
		wantInvalid(t, err, "birthday")
		vals, _ := e.store.FieldValues(ctx, ws, c.ID)
		if len(vals) != 1 || vals["note"].Text != "keep me" {
			t.Fatalf("a refused batch changed values: %+v", vals)
		}

		if err := e.store.ApplyFields(ctx, ws, c.ID, []contact.FieldChange{
			{Key: "age", Raw: "41"}, {Key: "note", Clear: true}, {Key: "phone", Raw: "012 345 678"},
		}, o); err != nil {
			t.Fatal(err)
		}
		vals, _ = e.store.FieldValues(ctx, ws, c.ID)
		got := map[string]string{}
		for k, v := range vals {
			got[k] = v.Text
		}
		if diff := cmp.Diff(map[string]string{"age": "41", "phone": "+85512345678"}, got); diff != "" {
			t.Errorf("after ApplyFields (-want +got):\n%s", diff)
		}

		if err := e.store.ArchiveField(ctx, admin, ws, "age"); err != nil {
			t.Fatal(err)
		}
		err = e.store.ApplyFields(ctx, ws, c.ID, []contact.FieldChange{{Key: "phone", Clear: true}, {Key: "age", Raw: "42"}}, o)
		if !errors.Is(err, contact.ErrFieldArchived) {
			t.Errorf("setting an archived field in a batch: %v", err)
		}
		if vals, _ := e.store.FieldValues(ctx, ws, c.ID); vals["phone"].Text != "+85512345678" {
			t.Errorf("the batch with an archived field cleared phone: %+v", vals)
		}
	})
}

// Tags are renamed and recoloured in one step, taken off a contact by ID,
// and counted per tag; another workspace's tag is not found.
func TestUpdateTagUsageAndUntagByID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, other := e.workspace(t), e.workspace(t)
		ch := e.page(t, ws, "p-ut")
		c1, _ := e.upsert(t, ch, "u1")
		c2, _ := e.upsert(t, ch, "u2")
		vip, err := e.store.CreateTag(ctx, admin, ws, "VIP", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.CreateTag(ctx, admin, ws, "Lead", ""); err != nil {
			t.Fatal(err)
		}
		for _, c := range []contact.Contact{c1, c2} {
			if _, _, err := e.store.TagContact(ctx, nil, ws, c.ID, "vip", false, byAgent); err != nil {
				t.Fatal(err)
			}
		}

		name, color := "Gold", "#C9A227"
		got, err := e.store.UpdateTag(ctx, admin, ws, vip.ID, &name, &color)
		if err != nil || got.Name != "Gold" || got.Color != "#c9a227" {
			t.Fatalf("UpdateTag = %+v, %v", got, err)
		}
		// A bad colour refuses the rename with it; another tag's name is a
		// conflict; both change nothing.
		bad, lead := "red", "LEAD"
		other1 := "Platinum"
		_, err = e.store.UpdateTag(ctx, admin, ws, vip.ID, &other1, &bad)
		wantInvalid(t, err, "color")
		if _, err := e.store.UpdateTag(ctx, admin, ws, vip.ID, &lead, &color); !errors.Is(err, contact.ErrTagExists) {
			t.Errorf("renaming onto another tag: %v", err)
		}
		if tg, err := e.store.Tag(ctx, ws, vip.ID); err != nil || tg.Name != "Gold" || tg.Color != "#c9a227" {
			t.Errorf("after refused updates: %+v, %v", tg, err)
		}
		if _, err := e.store.Tag(ctx, other, vip.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another workspace reads the tag: %v", err)
		}
		if _, err := e.store.UpdateTag(ctx, admin, other, vip.ID, &name, nil); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another workspace renames the tag: %v", err)
		}
		acts := auditActions(t, d, ws)
		if diff := cmp.Diff([]string{"tag.create", "tag.create", "tag.rename", "tag.color"}, acts); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}

		usage, err := e.store.TagUsage(ctx, ws)
		if err != nil || !cmp.Equal(usage, map[string]int{vip.ID: 2}) {
			t.Errorf("TagUsage = %v, %v", usage, err)
		}
		if usage, err := e.store.TagUsage(ctx, other); err != nil || len(usage) != 0 {
			t.Errorf("another workspace's usage = %v, %v", usage, err)
		}

		if removed, err := e.store.UntagContactID(ctx, nil, ws, c1.ID, vip.ID); err != nil || !removed {
			t.Errorf("UntagContactID = %v, %v", removed, err)
		}
		if removed, err := e.store.UntagContactID(ctx, nil, ws, c1.ID, vip.ID); err != nil || removed {
			t.Errorf("UntagContactID again = %v, %v", removed, err)
		}
		if _, err := e.store.UntagContactID(ctx, nil, ws, c1.ID, "no-such-tag"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("an unknown tag: %v", err)
		}
		if _, err := e.store.UntagContactID(ctx, nil, other, c2.ID, vip.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another workspace untags: %v", err)
		}
		if tags, _ := e.store.ContactTags(ctx, ws, c2.ID); len(tags) != 1 {
			t.Errorf("c2 lost its tag: %v", tagNames(tags))
		}
	})
}

func TestRegion(t *testing.T) {
	for locale, want := range map[string]string{"km_KH": "KH", "en_US": "US", "th-TH": "TH", "": "", "en": "", "es_419": "", "en_us": ""} {
		if got := (contact.Contact{Locale: locale}).Region(); got != want {
			t.Errorf("Region(%q) = %q, want %q", locale, got, want)
		}
	}
}

package contact_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

func tagNames(tags []contact.Tag) []string {
	out := []string{}
	for _, t := range tags {
		out = append(out, t.Name)
	}
	return out
}

// Promise P-20 and P-25: a workspace keeps a list of tags, one per name
// whatever the letter case or Unicode form it is typed in.
func TestTags(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ctx := context.Background()

		vip, err := e.store.CreateTag(ctx, admin, ws, "  VIP ", "#1A7F5A")
		if err != nil || vip.Name != "VIP" || vip.Color != "#1a7f5a" || vip.WorkspaceID != ws || vip.ID == "" {
			t.Fatalf("CreateTag = %+v, %v", vip, err)
		}
		for _, name := range []string{"Café", "Straße", "ភ្ញៀវថ្មី", strings.Repeat("ក", contact.MaxTagName)} {
			if _, err := e.store.CreateTag(ctx, admin, ws, name, ""); err != nil {
				t.Fatalf("CreateTag(%q): %v", name, err)
			}
		}

		// The same name in another case or Unicode form is the same tag.
		for _, name := range []string{"vip", "ViP", "CAFÉ", "Cafe\u0301", "STRASSE", " ភ្ញៀវថ្មី"} {
			if _, err := e.store.CreateTag(ctx, admin, ws, name, ""); !errors.Is(err, contact.ErrTagExists) || !errors.Is(err, db.ErrConflict) {
				t.Errorf("CreateTag(%q) = %v, want ErrTagExists", name, err)
			}
		}
		for name, field := range map[string]string{
			"":    "name",
			"   ": "name",
			strings.Repeat("a", contact.MaxTagName+1): "name",
			"two\nlines": "name",
			"bad\xff":    "name",
		} {
			_, err := e.store.CreateTag(ctx, admin, ws, name, "")
			wantInvalid(t, err, field)
		}
		for _, color := range []string{"red", "#12345", "#1234567", "#GGGGGG"} {
			_, err := e.store.CreateTag(ctx, admin, ws, "Colour "+color, color)
			wantInvalid(t, err, "color")
		}

		got, err := e.store.Tags(ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"Café", "Straße", "VIP", strings.Repeat("ក", contact.MaxTagName), "ភ្ញៀវថ្មី"}
		if diff := cmp.Diff(want, tagNames(got)); diff != "" {
			t.Errorf("Tags (-want +got):\n%s", diff)
		}
		if tg, err := e.store.TagByName(ctx, ws, "cafe\u0301"); err != nil || tg.Name != "Café" {
			t.Errorf("TagByName = %+v, %v", tg, err)
		}

		// Renames: a change of case is fine, another tag's name is not.
		e.now = e.now.Add(time.Hour)
		if tg, err := e.store.RenameTag(ctx, admin, ws, vip.ID, "Vip"); err != nil || tg.Name != "Vip" || !tg.UpdatedAt.Equal(e.now) || tg.Color != vip.Color {
			t.Errorf("RenameTag to another case = %+v, %v", tg, err)
		}
		if _, err := e.store.RenameTag(ctx, admin, ws, vip.ID, "straße"); !errors.Is(err, contact.ErrTagExists) {
			t.Errorf("RenameTag to another tag's name: %v", err)
		}
		if _, err := e.store.RenameTag(ctx, admin, ws, "no-such-tag", "New"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("RenameTag of an unknown tag: %v", err)
		}
		_, err = e.store.RenameTag(ctx, admin, ws, vip.ID, "")
		wantInvalid(t, err, "name")
		if tg, err := e.store.SetTagColor(ctx, admin, ws, vip.ID, ""); err != nil || tg.Color != "" || tg.Name != "Vip" {
			t.Errorf("SetTagColor = %+v, %v", tg, err)
		}

		if err := e.store.DeleteTag(ctx, admin, ws, vip.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.store.DeleteTag(ctx, admin, ws, vip.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("DeleteTag twice: %v", err)
		}
		if _, err := e.store.TagByName(ctx, ws, "vip"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("TagByName of a deleted tag: %v", err)
		}
		wantAudit := []string{contact.ActionTagCreate, contact.ActionTagCreate, contact.ActionTagCreate, contact.ActionTagCreate, contact.ActionTagCreate,
			contact.ActionTagRename, contact.ActionTagColor, contact.ActionTagDelete}
		if diff := cmp.Diff(wantAudit, auditActions(t, d, ws)); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}

// Promises P-15 and P-20: flows and agents tag contacts; tagging is
// idempotent, may create the tag on the fly, and the contacts having a tag
// can be listed page by page.
func TestTagContact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ctx := context.Background()
		ch := e.page(t, ws, "p-t")
		var ids []string
		for _, psid := range []string{"1", "2", "3", "4", "5"} {
			c, _ := e.upsert(t, ch, psid)
			ids = append(ids, c.ID)
		}
		vip, err := e.store.CreateTag(ctx, admin, ws, "VIP", "#aa0000")
		if err != nil {
			t.Fatal(err)
		}

		// Inside a flow's transaction: the flow sees its own tags; a rollback
		// keeps none of them, not even a tag it created.
		errBoom := errors.New("boom")
		err = d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if _, _, err := e.store.TagContact(ctx, tx, ws, ids[0], "lead", true, byFlow); err != nil {
				return err
			}
			if tags, err := e.store.ContactTagsTx(ctx, tx, ws, ids[0]); err != nil || !cmp.Equal(tagNames(tags), []string{"lead"}) {
				t.Errorf("ContactTagsTx = %v, %v", tagNames(tags), err)
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatal(err)
		}
		if tags, _ := e.store.Tags(ctx, ws); !cmp.Equal(tagNames(tags), []string{"VIP"}) {
			t.Errorf("tags after a rollback = %v", tagNames(tags))
		}

		tg, added, err := e.store.TagContact(ctx, nil, ws, ids[0], "vip", false, byAgent)
		if err != nil || !added || tg.ID != vip.ID || tg.Name != "VIP" {
			t.Fatalf("TagContact = %+v, %v, %v", tg, added, err)
		}
		if _, added, err := e.store.TagContact(ctx, nil, ws, ids[0], "VIP", false, byAgent); err != nil || added {
			t.Errorf("tagging twice = %v, %v; want no-op", added, err)
		}
		if _, _, err := e.store.TagContact(ctx, nil, ws, ids[0], "Hot lead", false, byFlow); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("unknown tag without create: %v", err)
		}
		hot, added, err := e.store.TagContact(ctx, nil, ws, ids[0], " Hot lead ", true, byFlow)
		if err != nil || !added || hot.Name != "Hot lead" || hot.Color != "" {
			t.Errorf("TagContact with create = %+v, %v, %v", hot, added, err)
		}
		if _, _, err := e.store.TagContact(ctx, nil, ws, ids[0], "", true, byFlow); err == nil {
			t.Error("an empty tag name was accepted")
		}
		if _, _, err := e.store.TagContact(ctx, nil, ws, ids[0], "VIP", true, contact.By{Kind: contact.ByFlow}); err == nil {
			t.Error("a flow author without an ID was accepted")
		}
		if _, _, err := e.store.TagContact(ctx, nil, ws, "no-such-contact", "VIP", true, byFlow); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("unknown contact: %v", err)
		}
		if tags, err := e.store.ContactTags(ctx, ws, ids[0]); err != nil || !cmp.Equal(tagNames(tags), []string{"Hot lead", "VIP"}) {
			t.Errorf("ContactTags = %v, %v", tagNames(tags), err)
		}
		var by string
		if err := d.R.NewRaw(`SELECT created_by FROM contact_tags WHERE contact_id = ? AND tag_id = ?`, ids[0], hot.ID).Scan(ctx, &by); err != nil || by != "flow:flow-welcome" {
			t.Errorf("created_by = %q, %v", by, err)
		}

		for _, id := range ids[1:4] {
			if _, _, err := e.store.TagContact(ctx, nil, ws, id, "VIP", false, byAgent); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		after := ""
		for {
			page, err := e.store.ContactsWithTag(ctx, ws, vip.ID, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1]
		}
		wantIDs := slices.Sorted(slices.Values(ids[:4]))
		if diff := cmp.Diff(wantIDs, got); diff != "" {
			t.Errorf("ContactsWithTag (-want +got):\n%s", diff)
		}

		if removed, err := e.store.UntagContact(ctx, nil, ws, ids[1], "vip"); err != nil || !removed {
			t.Errorf("UntagContact = %v, %v", removed, err)
		}
		if removed, err := e.store.UntagContact(ctx, nil, ws, ids[1], "vip"); err != nil || removed {
			t.Errorf("UntagContact again = %v, %v", removed, err)
		}
		if removed, err := e.store.UntagContact(ctx, nil, ws, ids[1], "never existed"); err != nil || removed {
			t.Errorf("UntagContact of an unknown tag = %v, %v", removed, err)
		}

		// Deleting a tag takes it off every contact.
		if err := e.store.DeleteTag(ctx, admin, ws, vip.ID); err != nil {
			t.Fatal(err)
		}
		if tags, _ := e.store.ContactTags(ctx, ws, ids[0]); !cmp.Equal(tagNames(tags), []string{"Hot lead"}) {
			t.Errorf("tags after the delete = %v", tagNames(tags))
		}
		if left, err := e.store.ContactsWithTag(ctx, ws, vip.ID, "", 0); err != nil || len(left) != 0 {
			t.Errorf("contacts with a deleted tag = %v, %v", left, err)
		}
	})
}

// Flows tagging several contacts at once with a tag that does not exist yet
// end up with one tag.
func TestConcurrentTagCreation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ch := e.page(t, ws, "p-cc")
		const n = 6
		ids := make([]string, n)
		for i := range n {
			c, _ := e.upsert(t, ch, "psid-cc-"+string(rune('a'+i)))
			ids[i] = c.ID
		}
		errs := make([]error, n)
		tagIDs := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
					tg, _, err := e.store.TagContact(ctx, tx, ws, ids[i], "Summer promo", true, byFlow)
					tagIDs[i] = tg.ID
					return err
				})
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("tag %d: %v", i, errs[i])
			}
			if tagIDs[i] != tagIDs[0] {
				t.Fatalf("concurrent creations returned different tags: %v", tagIDs)
			}
		}
		tags, err := e.store.Tags(context.Background(), ws)
		if err != nil || len(tags) != 1 {
			t.Errorf("tags = %v, %v; want one", tagNames(tags), err)
		}
		if got, err := e.store.ContactsWithTag(context.Background(), ws, tagIDs[0], "", 0); err != nil || len(got) != n {
			t.Errorf("contacts with the tag = %d, %v; want %d", len(got), err, n)
		}
	})
}

// Promise P-03: a tag of workspace A can never be read, put on a contact or
// changed through workspace B, nor attached across workspaces by a query
// that forgets to check.
func TestTagIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		wsA, wsB := e.workspace(t), e.workspace(t)
		ca, _ := e.upsert(t, e.page(t, wsA, "p-ta"), "psid-ta")
		cb, _ := e.upsert(t, e.page(t, wsB, "p-tb"), "psid-tb")
		tagA, _, err := e.store.TagContact(ctx, nil, wsA, ca.ID, "Secret", true, byAgent)
		if err != nil {
			t.Fatal(err)
		}

		if _, _, err := e.store.TagContact(ctx, nil, wsB, cb.ID, "Secret", false, byAgent); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("B uses A's tag: %v", err)
		}
		if _, _, err := e.store.TagContact(ctx, nil, wsA, cb.ID, "Secret", false, byAgent); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("A's tag put on B's contact: %v", err)
		}
		if _, _, err := e.store.TagContact(ctx, nil, wsB, ca.ID, "Mine", true, byAgent); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("B tags A's contact: %v", err)
		}
		if _, err := e.store.UntagContact(ctx, nil, wsB, ca.ID, "Secret"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("B untags A's contact: %v", err)
		}
		if tags, err := e.store.ContactTags(ctx, wsB, ca.ID); err != nil || len(tags) != 0 {
			t.Errorf("B reads A's contact's tags: %v, %v", tagNames(tags), err)
		}
		if ids, err := e.store.ContactsWithTag(ctx, wsB, tagA.ID, "", 0); err != nil || len(ids) != 0 {
			t.Errorf("B lists A's tagged contacts: %v, %v", ids, err)
		}
		if tags, err := e.store.Tags(ctx, wsB); err != nil || len(tags) != 0 {
			t.Errorf("B lists A's tags: %v, %v", tagNames(tags), err)
		}
		if _, err := e.store.TagByName(ctx, wsB, "Secret"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("B finds A's tag: %v", err)
		}
		if _, err := e.store.RenameTag(ctx, admin, wsB, tagA.ID, "Hacked"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("B renames A's tag: %v", err)
		}
		if _, err := e.store.SetTagColor(ctx, admin, wsB, tagA.ID, "#000000"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("B recolours A's tag: %v", err)
		}
		if err := e.store.DeleteTag(ctx, admin, wsB, tagA.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("B deletes A's tag: %v", err)
		}
		// B may have a tag of the same name: names are per workspace.
		if _, err := e.store.CreateTag(ctx, admin, wsB, "Secret", ""); err != nil {
			t.Errorf("the same name in another workspace: %v", err)
		}
		if tags, _ := e.store.ContactTags(ctx, wsA, ca.ID); len(tags) != 1 || tags[0].ID != tagA.ID || tags[0].Name != "Secret" {
			t.Errorf("A's contact's tags changed: %+v", tags)
		}

		ca2, _ := e.upsert(t, e.page(t, wsA, "p-ta2"), "psid-ta2")
		for _, tt := range []struct {
			name   string
			args   []any
			refuse bool
		}{
			{"A's tag on B's contact", []any{cb.ID, tagA.ID, wsB}, true},
			{"B's contact under A", []any{cb.ID, tagA.ID, wsA}, true},
			{"A's tag on A's contact", []any{ca2.ID, tagA.ID, wsA}, false},
		} {
			_, err := d.W.NewRaw(`INSERT INTO contact_tags (contact_id, tag_id, workspace_id, created_by, created_at) VALUES (?, ?, ?, '', ?)`,
				append(tt.args, e.now)...).Exec(ctx)
			if tt.refuse != isForeignKeyViolation(err) || !tt.refuse && err != nil {
				t.Errorf("%s: insert = %v, want refused %v", tt.name, err, tt.refuse)
			}
		}
	})
}

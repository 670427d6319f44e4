package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Cards keep the order people drop them in, including after many drops
// at the same spot (which renumbers the column).
func TestOrderingWithinColumn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		p := e.create(t, ws, "Sales", "New", "Offer")
		col, other := p.Stages[0].ID, p.Stages[1].ID
		ids := map[string]string{}
		name := map[string]string{}
		for _, n := range []string{"a", "b", "c", "d", "o"} {
			ids[n] = e.contact(t, ws, "psid-"+n)
			name[ids[n]] = n
		}
		var model []string // names, in column order
		check := func(step string) {
			t.Helper()
			var got []string
			for _, id := range e.column(t, ws, p.ID, col) {
				got = append(got, name[id])
			}
			if diff := cmp.Diff(model, got); diff != "" {
				t.Fatalf("after %s (-want +got):\n%s", step, diff)
			}
		}
		// place moves n before the card of before ("" for the end), in the
		// model too.
		place := func(n, before string) {
			t.Helper()
			e.move(t, ws, p.ID, ids[n], col, ids[before])
			model = slices.DeleteFunc(model, func(s string) bool { return s == n })
			i := len(model)
			if before != "" {
				i = slices.Index(model, before)
			}
			model = slices.Insert(model, i, n)
			check(fmt.Sprintf("%s before %q", n, before))
		}
		for _, n := range []string{"a", "b", "c", "d"} {
			place(n, "")
		}
		place("d", "b")
		place("a", "")
		place("c", "d") // to the top
		e.move(t, ws, p.ID, ids["o"], other, "")
		place("o", "a") // from another column, into the middle
		// Forty drops just before b exhaust any gap between two cards.
		for i := range 40 {
			n := fmt.Sprintf("x%02d", i)
			ids[n] = e.contact(t, ws, "psid-"+n)
			name[ids[n]] = n
			place(n, "b")
		}
		place("b", "c")
		if got := e.column(t, ws, p.ID, other); len(got) != 0 {
			t.Errorf("the other column still holds %v", got)
		}
	})
}

// The board gives each column's first cards, its count and a cursor, per
// column; another workspace gets nothing.
func TestBoard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, ws2 := e.workspace(t), e.workspace(t)
		p := e.create(t, ws, "Sales", "New", "Offer", "Won")
		q := e.create(t, ws, "Service", "Booked")
		var newIDs, offerIDs []string
		for i := range 5 {
			c := e.contact(t, ws, fmt.Sprint("n", i))
			e.move(t, ws, p.ID, c, p.Stages[0].ID, "")
			newIDs = append(newIDs, c)
		}
		for i := range 3 {
			c := e.contact(t, ws, fmt.Sprint("o", i))
			e.move(t, ws, p.ID, c, p.Stages[1].ID, "")
			e.move(t, ws, q.ID, c, "", "") // on another board too: not counted here
			offerIDs = append(offerIDs, c)
		}

		b, err := e.store.Board(ctx, ws, p.ID, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		if b.Pipeline.ID != p.ID || len(b.Columns) != 3 {
			t.Fatalf("board %+v", b)
		}
		cardIDs := func(i int) []string {
			var out []string
			for _, c := range b.Columns[i].Cards {
				out = append(out, c.ContactID)
			}
			return out
		}
		for i, want := range []struct {
			count int
			ids   []string
			more  bool
		}{{5, newIDs[:2], true}, {3, offerIDs[:2], true}, {0, nil, false}} {
			c := b.Columns[i]
			if c.Stage.ID != p.Stages[i].ID || c.Count != want.count || !cmp.Equal(cardIDs(i), want.ids) || (c.Next != "") != want.more {
				t.Errorf("column %d = %+v, want %+v", i, c, want)
			}
		}
		// The next page of the first column only.
		b, err = e.store.Board(ctx, ws, p.ID, 2, map[string]string{p.Stages[0].ID: b.Columns[0].Next})
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(cardIDs(0), newIDs[2:4]) || !cmp.Equal(cardIDs(1), offerIDs[:2]) || b.Columns[0].Count != 5 {
			t.Errorf("second page: %v / %v", cardIDs(0), cardIDs(1))
		}
		if got := e.column(t, ws, p.ID, p.Stages[0].ID); !cmp.Equal(got, newIDs) {
			t.Errorf("the whole column = %v, want %v", got, newIDs)
		}

		if _, err := e.store.Board(ctx, ws, p.ID, 2, map[string]string{p.Stages[0].ID: "garbage"}); err == nil {
			t.Error("a bad cursor was accepted")
		}
		if _, err := e.store.Board(ctx, ws2, p.ID, 2, nil); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("ws2 reads ws's board: %v", err)
		}
		if _, err := e.store.Column(ctx, ws, p.ID, q.Stages[0].ID, "", 2); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("a column of another pipeline: %v", err)
		}
		if _, err := e.store.Column(ctx, ws2, p.ID, p.Stages[0].ID, "", 2); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("ws2 reads ws's column: %v", err)
		}

		// The contact's profile lists its cards; another workspace sees none.
		pl, err := e.store.CardsOf(ctx, ws, offerIDs[0])
		if err != nil || len(pl) != 2 || pl[0].PipelineName != "Sales" || pl[0].StageName != "Offer" || pl[1].StageName != "Booked" {
			t.Errorf("CardsOf = %+v, %v", pl, err)
		}
		if pl, err := e.store.CardsOf(ctx, ws2, offerIDs[0]); err != nil || len(pl) != 0 {
			t.Errorf("CardsOf from ws2 = %+v, %v", pl, err)
		}
	})
}

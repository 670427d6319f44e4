package meta_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/meta"
	"github.com/parleyhq/parley/internal/metasim"
)

// IDsForPages reads every page of Meta's ID matching answer with the app
// token (never leaked into errors), against the simulator.
func TestIDsForPages(t *testing.T) {
	sim := metasim.New(metasim.Options{})
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	owner, person := sim.AddUser("Owner"), sim.AddUser("Person")
	var want []meta.PageScopedID
	for i := range 150 {
		pg := sim.AddPage(owner.ID, "Shop "+strconv.Itoa(i))
		psid := sim.AddPerson(pg.ID, metasim.Person{})
		sim.LinkPerson(person.ID, pg.ID, psid)
		sim.SetBusinessPage(pg.ID, true)
		want = append(want, meta.PageScopedID{ID: psid, PageID: pg.ID})
	}
	c := meta.New(meta.Options{GraphURL: srv.URL, AppID: sim.AppID(), AppSecret: sim.AppSecret()})
	got, err := c.IDsForPages(context.Background(), person.ID)
	if err != nil {
		t.Fatal(err)
	}
	less := func(a, b meta.PageScopedID) int { return strings.Compare(a.PageID+a.ID, b.PageID+b.ID) }
	slices.SortFunc(got, less)
	slices.SortFunc(want, less)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}

	_, err = c.IDsForPages(context.Background(), "999")
	var ge *meta.Error
	if !errors.As(err, &ge) || strings.Contains(err.Error(), sim.AppSecret()) {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := c.IDsForPages(context.Background(), "../me"); err == nil {
		t.Error("a path-changing ID was sent")
	}
	noApp := meta.New(meta.Options{GraphURL: srv.URL})
	if _, err := noApp.IDsForPages(context.Background(), person.ID); err == nil {
		t.Error("no app credentials: want an error")
	}
}

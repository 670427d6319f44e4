package web_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-33's dashboard pages, their unhappy paths: only owners reach
// "Delete workspace"; a wrong name or password shows next to its field and
// changes nothing; the deleted workspace's only page is its deletion page,
// where only owners may cancel and nobody outside sees anything; the home
// page sends its owner there; once the grace period is over cancelling is
// refused with the reason; a wrong password keeps the account.
func TestDeletionPages(t *testing.T) {
	const grace = time.Hour
	s := start(t, dbtest.SQLite(t), apptest.WithConfig(func(c *config.Config) { c.WorkspacePurgeAfter = grace }))
	owner, _ := s.signUp(t, "Rotha")
	ws := owner.createWorkspace("Rotha Rice")
	admin, adminAddr := s.signUp(t, "Nary")
	s.join(t, owner, ws, admin, adminAddr, "admin")
	outsider, _ := s.signUp(t, "Pich")
	outsider.createWorkspace("Pich Place")

	owner.get("/w/"+ws+"/settings/general").want(t, http.StatusOK, "Danger zone", "Delete workspace…")
	admin.get("/w/"+ws+"/settings/general").want(t, http.StatusOK).lacks(t, "Danger zone")
	admin.get("/w/"+ws+"/settings/delete").want(t, http.StatusForbidden)
	admin.post("/w/"+ws+"/settings/delete", url.Values{"confirm_name": {"Rotha Rice"}, "password": {password}}).want(t, http.StatusForbidden)
	owner.get("/w/"+ws+"/settings/delete").want(t, http.StatusOK, "after 1 day")

	owner.post("/w/"+ws+"/settings/delete", url.Values{"confirm_name": {"Rotha"}, "password": {password}}).
		want(t, http.StatusUnprocessableEntity, "delete-confirm-name-error", "Type the workspace")
	owner.post("/w/"+ws+"/settings/delete", url.Values{"confirm_name": {"Rotha Rice"}, "password": {"wrong"}}).
		want(t, http.StatusUnprocessableEntity, "delete-password-error", "That is not your password.")
	admin.get("/w/"+ws).want(t, http.StatusOK)
	owner.get("/w/"+ws+"/deletion").redirectsTo(t, "/w/"+ws)

	owner.post("/w/"+ws+"/settings/delete", url.Values{"confirm_name": {"Rotha Rice"}, "password": {password}}).redirectsTo(t, "/w/"+ws+"/deletion")
	owner.get("/").redirectsTo(t, "/w/"+ws+"/deletion")
	owner.get("/w/"+ws+"/deletion").want(t, http.StatusOK, "Cancel deletion", "Being deleted")
	for _, path := range []string{"", "/settings/general", "/conversations", "/settings/delete"} {
		owner.get("/w/"+ws+path).want(t, http.StatusNotFound)
	}
	admin.post("/w/"+ws+"/deletion/cancel", nil).want(t, http.StatusForbidden)
	outsider.get("/w/"+ws+"/deletion").want(t, http.StatusNotFound)
	outsider.post("/w/"+ws+"/deletion/cancel", nil).want(t, http.StatusNotFound)
	outsider.get("/").redirectsTo(t, "/w/")

	s.Clock.Advance(grace)
	owner.post("/w/"+ws+"/deletion/cancel", nil).want(t, http.StatusConflict, "grace period is over")
	owner.get("/w/"+ws).want(t, http.StatusNotFound)

	outsider.post("/account/delete", url.Values{"password": {"wrong"}}).
		want(t, http.StatusUnprocessableEntity, "account-delete-password-error")
	outsider.get("/account/security").want(t, http.StatusOK, "Delete my account")
}

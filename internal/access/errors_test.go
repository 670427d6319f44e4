package access_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/workspace"
)

// What deleting a workspace or an account can fail with reads the same
// on the API and the dashboard (both use DeletionError); anything else
// falls through to DomainError, and an unknown failure stays a 500.
func TestDeletionError(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("workspace: delete: %w", err) }
	tests := []struct {
		err    error
		status int
		code   string
		field  string
	}{
		{wrap(account.ErrInvalidCredentials), http.StatusUnprocessableEntity, "invalid_password", "password"},
		{wrap(db.ErrNotFound), http.StatusNotFound, "not_found", ""},
		{wrap(workspace.ErrRoleNotAllowed), http.StatusForbidden, "forbidden", ""},
		{wrap(workspace.ErrDeleting), http.StatusConflict, "already_deleting", ""},
		{wrap(workspace.ErrNotDeleting), http.StatusConflict, "not_deleting", ""},
		{wrap(workspace.ErrPurgeStarted), http.StatusConflict, "purge_started", ""},
		{wrap(&account.ErrSoleOwner{Workspaces: []string{"Kampot Pepper"}}), http.StatusConflict, "last_owner", ""},
		{errors.New("disk on fire"), http.StatusInternalServerError, "internal", ""},
	}
	for _, tt := range tests {
		e := httpx.AsError(access.DeletionError(tt.err))
		if e.Status != tt.status || e.Code != tt.code || e.Field != tt.field {
			t.Errorf("%v → %d %q field %q; want %d %q field %q", tt.err, e.Status, e.Code, e.Field, tt.status, tt.code, tt.field)
		}
		if tt.code == "last_owner" && !strings.Contains(e.Message, "Kampot Pepper") {
			t.Errorf("last_owner message %q does not name the workspace", e.Message)
		}
	}
}

package api

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
)

// What the inbox refuses maps to a status and a stable code, wrapped or
// not: an automated sender while a person owns the conversation is a 409
// human_owned (no route sends as automation today; the mapping is ready
// for the one that will), a foreign conversation a 404, a change the
// state machine refuses a 422 naming the field.
func TestInboxErrorsMapToCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
		field  string
	}{
		{"human owned", fmt.Errorf("inbox: reply: %w", inbox.ErrHumanOwned), http.StatusConflict, "human_owned", ""},
		{"not found", fmt.Errorf("inbox: reply: %w", db.ErrNotFound), http.StatusNotFound, "not_found", ""},
		{"policy", &inbox.PolicyError{}, http.StatusUnprocessableEntity, "", ""},
	} {
		e := httpx.AsError(conversationError(tc.err))
		if e.Status != tc.status || e.Code != tc.code || e.Field != tc.field {
			t.Errorf("%s: %d %q %q, want %d %q %q", tc.name, e.Status, e.Code, e.Field, tc.status, tc.code, tc.field)
		}
	}
	for _, tc := range []struct {
		err    error
		field  string
		status int
		code   string
	}{
		{fmt.Errorf("inbox: set owner: %w", inbox.ErrInvalid), "owner", http.StatusUnprocessableEntity, "invalid_change"},
		{fmt.Errorf("inbox: assign: %w", inbox.ErrInvalid), "assignee_id", http.StatusUnprocessableEntity, "invalid_change"},
		{fmt.Errorf("inbox: set team: %w", db.ErrNotFound), "team_id", http.StatusNotFound, "not_found"},
		{fmt.Errorf("inbox: reply: %w", inbox.ErrHumanOwned), "owner", http.StatusConflict, "human_owned"},
	} {
		e := httpx.AsError(changeError(tc.err, tc.field))
		if e.Status != tc.status || e.Code != tc.code || (e.Status == 422 && e.Field != tc.field) {
			t.Errorf("%v on %s: %d %q %q", tc.err, tc.field, e.Status, e.Code, e.Field)
		}
	}
}

package api

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
)

// An automated send refused by a contact's data-subject rights is a 409
// with its own code, like one refused because a person owns the
// conversation (P-40).
func TestRestrictedIsConflict(t *testing.T) {
	e := httpx.AsError(conversationError(fmt.Errorf("inbox: reply: %w (restricted)", inbox.ErrRestricted)))
	if e.Status != http.StatusConflict || e.Code != "contact_restricted" {
		t.Fatalf("got %d %s", e.Status, e.Code)
	}
}

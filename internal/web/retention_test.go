package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/retention"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-35, N-2 in the dashboard: every member sees each class's
// period, default and allowed range; a viewer cannot change them; an
// admin's out-of-range value is refused on its field with the range, and
// nothing is saved; an empty message-content field keeps messages for the
// workspace's lifetime. N-7: admins place and lift the workspace's hold.
func TestRetentionPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Retowner")
		ws := owner.createWorkspace("Retention Rice")
		viewer, vaddr := s.signUp(t, "Retviewer")
		s.join(t, owner, ws, viewer, vaddr, "viewer")
		path := "/w/" + ws + "/settings/retention"

		viewer.get(path).want(t, http.StatusOK, "Data retention", "Message content", "for the workspace&#39;s lifetime",
			"From 1 year (365 days) to 2 years (730 days).", "Only owners and admins can change retention periods.")
		viewer.post(path, url.Values{"days_message_content": {"1"}}).want(t, http.StatusForbidden)
		viewer.post(path+"/hold", url.Values{"reason": {"x"}}).want(t, http.StatusForbidden)

		owner.post(path, url.Values{"days_message_content": {"30"}, "days_raw_payloads": {"120"}}).
			want(t, http.StatusUnprocessableEntity, "Nothing was saved", "Not allowed. From 1 day to 90 days.", `value="120"`)
		owner.post(path, url.Values{"days_audit_log": {"a year"}}).want(t, http.StatusUnprocessableEntity, "Enter a whole number of days.")
		set, err := s.Retention.Settings(t.Context(), ws)
		if err != nil {
			t.Fatal(err)
		}
		if set.Days(retention.ClassMessages) != retention.Lifetime || set.Days(retention.ClassRawPayloads) != 90 {
			t.Fatalf("a refused form saved something: %+v", set.Classes)
		}

		owner.post(path, url.Values{"days_message_content": {"30"}, "days_raw_payloads": {"14"}, "days_audit_log": {"365"}}).redirectsTo(t, path+"?done=saved")
		owner.get(path+"?done=saved").want(t, http.StatusOK, "Saved.", `value="30"`, `value="14"`)
		owner.post(path, url.Values{"days_message_content": {""}}).redirectsTo(t, path+"?done=saved")
		set, _ = s.Retention.Settings(t.Context(), ws)
		if set.Days(retention.ClassMessages) != retention.Lifetime || set.Days(retention.ClassRawPayloads) != 14 {
			t.Fatalf("saved %+v", set.Classes)
		}

		owner.post(path+"/hold", url.Values{"reason": {""}}).want(t, http.StatusUnprocessableEntity, "Give the hold a reason")
		owner.post(path+"/hold", url.Values{"reason": {"Case 114"}}).redirectsTo(t, path+"?done=held")
		owner.get(path).want(t, http.StatusOK, "Legal hold:", "Case 114", "Lift the hold")
		p := viewer.get(path).want(t, http.StatusOK, "Legal hold:")
		if strings.Contains(p.Body, "Case 114") {
			t.Error("a viewer sees the hold's reason")
		}
		owner.post(path+"/hold/release", nil).redirectsTo(t, path+"?done=released")
		if set, _ := s.Retention.Settings(t.Context(), ws); set.Hold != nil {
			t.Errorf("hold still there: %+v", set.Hold)
		}
	})
}

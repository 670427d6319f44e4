package workspace_test

import (
	"testing"

	"github.com/parleyhq/parley/internal/validate"
	"github.com/parleyhq/parley/internal/workspace"
)

func TestParseRole(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want workspace.Role
		ok   bool
	}{
		{"owner", workspace.RoleOwner, true},
		{"admin", workspace.RoleAdmin, true},
		{" Agent ", workspace.RoleAgent, true},
		{"VIEWER", workspace.RoleViewer, true},
		{"", "", false},
		{"root", "", false},
		{"owner ", workspace.RoleOwner, true},
		{"own er", "", false},
	} {
		got, err := workspace.ParseRole(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseRole(%q) = %q, %v", tc.in, got, err)
		}
		if err != nil {
			if v, ok := validate.As(err); !ok || v.Field != "role" {
				t.Errorf("ParseRole(%q) error %v is not a validation error on role", tc.in, err)
			}
		}
	}
}

// The rank is owner > admin > agent > viewer, and unknown roles fail closed.
func TestAtLeastAndCanManage(t *testing.T) {
	order := []workspace.Role{workspace.RoleViewer, workspace.RoleAgent, workspace.RoleAdmin, workspace.RoleOwner}
	for i, r := range order {
		for j, min := range order {
			if got := r.AtLeast(min); got != (i >= j) {
				t.Errorf("%s.AtLeast(%s) = %v", r, min, got)
			}
		}
		if r.AtLeast("boss") || workspace.Role("boss").AtLeast(r) {
			t.Errorf("unknown role compared as known against %s", r)
		}
	}
	manage := map[workspace.Role][]workspace.Role{
		workspace.RoleOwner:  {workspace.RoleOwner, workspace.RoleAdmin, workspace.RoleAgent, workspace.RoleViewer},
		workspace.RoleAdmin:  {workspace.RoleAdmin, workspace.RoleAgent, workspace.RoleViewer},
		workspace.RoleAgent:  nil,
		workspace.RoleViewer: nil,
		"boss":               nil,
	}
	for actor, allowed := range manage {
		for _, target := range append(order, "boss") {
			want := false
			for _, a := range allowed {
				want = want || a == target
			}
			if got := actor.CanManage(target); got != want {
				t.Errorf("%q.CanManage(%q) = %v, want %v", actor, target, got, want)
			}
		}
	}
}

package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/workspace"
)

// tenant is one workspace with a member in every role, a pending
// invitation and an API key of every role (security.md §3.A's two-tenant
// fixture: A and B have identical object graphs).
type tenant struct {
	ws                          string
	owner, admin, agent, viewer *apptest.User
	invitationID, keyID, token  string
	keys                        map[string]string // role → secret
	// A connected page with one conversation, and its contact.
	channelID, conversationID, contactID string
	// A custom field (with the contact's value) and a tag (on the contact).
	fieldKey, tagID string
	// A published flow.
	flowID string
	// A private note on the conversation (by the owner, mentioning the
	// viewer) and a canned response.
	noteID, cannedID string
	// A default pipeline with two stages and the contact's card in the
	// first, and a note on the contact.
	pipelineID, stageID, contactNoteID string
	// A team with the agent in it.
	teamID string
	// A segment (tag has the tenant's tag) and a contact import (pending:
	// the job workers are off).
	segmentID, importID string
}

func newTenant(t *testing.T, a *apptest.App, name string) *tenant {
	t.Helper()
	tn := &tenant{owner: a.SignUp(t, name+"-owner"), keys: map[string]string{}}
	tn.ws = tn.owner.CreateWorkspace(t, name)
	tn.admin, tn.agent, tn.viewer = a.SignUp(t, name+"-admin"), a.SignUp(t, name+"-agent"), a.SignUp(t, name+"-viewer")
	a.Join(t, tn.owner, tn.ws, tn.admin, "admin")
	a.Join(t, tn.owner, tn.ws, tn.agent, "agent")
	a.Join(t, tn.owner, tn.ws, tn.viewer, "viewer")
	var inv struct {
		Invitation struct{ ID string }
		Link       string
	}
	tn.owner.Do("POST", "/api/v1/workspaces/"+tn.ws+"/invitations", map[string]string{"email": name + "-pending@example.com", "role": "agent"}).Must(t, 201).JSON(t, &inv)
	tn.invitationID, tn.token = inv.Invitation.ID, inv.Link[strings.LastIndexByte(inv.Link, '/')+1:]
	for _, role := range []string{"admin", "agent", "viewer"} {
		var k struct {
			APIKey struct{ ID string } `json:"api_key"`
			Secret string
		}
		tn.owner.Do("POST", "/api/v1/workspaces/"+tn.ws+"/api-keys", map[string]string{"name": role + " key", "role": role}).Must(t, 201).JSON(t, &k)
		tn.keys[role], tn.keyID = k.Secret, k.APIKey.ID
	}
	// And a key issued for the mobile app's call-log uploads (P-28).
	var scoped struct{ Secret string }
	tn.owner.Do("POST", "/api/v1/workspaces/"+tn.ws+"/api-keys", map[string]any{"name": "phone key", "role": "agent", "scopes": []string{"call_logs:write"}}).
		Must(t, 201).JSON(t, &scoped)
	tn.keys[scopedAgentKey] = scoped.Secret
	seed := seedConversation(t, a, tn.ws, "Hello from "+name)
	tn.channelID, tn.conversationID, tn.contactID = seed.channel.ID, seed.conversationID, seed.contactID
	seedCRM(t, tn, name)
	seedFlow(t, tn)
	seedNotesAndCanned(t, tn)
	seedPipeline(t, tn)
	seedTeam(t, tn)
	seedSegmentAndImport(t, tn)
	return tn
}

// scopedAgentKey names, in tenant.keys, the agent key carrying the scope
// call_logs:write.
const scopedAgentKey = "agent+call_logs:write"

// fill substitutes path parameters with objects from ws (the workspace in
// the path) and obj (the tenant whose object IDs are used).
func fill(pattern string, ws, obj *tenant) string {
	noteID := obj.noteID
	if strings.Contains(pattern, "/contacts/{contact_id}/notes/") {
		noteID = obj.contactNoteID
	}
	return strings.NewReplacer(
		"{workspace_id}", ws.ws, "{user_id}", obj.viewer.ID, "{invitation_id}", obj.invitationID,
		"{key_id}", obj.keyID, "{token}", obj.token,
		"{channel_id}", obj.channelID, "{conversation_id}", obj.conversationID, "{contact_id}", obj.contactID,
		"{key}", obj.fieldKey, "{tag_id}", obj.tagID, "{flow_id}", obj.flowID,
		"{note_id}", noteID, "{canned_id}", obj.cannedID,
		"{pipeline_id}", obj.pipelineID, "{stage_id}", obj.stageID,
		"{team_id}", obj.teamID,
		"{segment_id}", obj.segmentID, "{import_id}", obj.importID,
	).Replace(pattern)
}

// probeBody is a body that passes decoding but fails validation, so an
// allowed caller changes nothing and a refused one is refused before it.
const probeBody = `{}`

func send(c *apptest.Client, method, path string) *apptest.Response {
	if method == "GET" || method == "DELETE" {
		return c.Do(method, path, nil)
	}
	return c.Do(method, path, probeBody)
}

// Every route declares an access policy; a route without one fails here
// (security.md §3.A inventory), and every member route is under
// /workspaces/{workspace_id}.
func TestEveryRouteDeclaresAPolicy(t *testing.T) {
	a := apptest.New(t, dbtest.SQLite(t))
	seen := map[string]bool{}
	for _, rt := range a.Routes() {
		key := rt.Method + " " + rt.Pattern
		if rt.Policy.IsZero() {
			t.Errorf("%s declares no access policy", key)
		}
		if seen[key] {
			t.Errorf("%s registered twice", key)
		}
		seen[key] = true
		if rt.Policy.MinRole() != "" && !strings.Contains(rt.Pattern, "{workspace_id}") {
			t.Errorf("%s is a member route without {workspace_id}", key)
		}
		if strings.Contains(rt.Pattern, "{workspace_id}") && rt.Policy.MinRole() == "" {
			t.Errorf("%s has a workspace in its path but no member policy", key)
		}
		if rt.Handler == nil {
			t.Errorf("%s has no handler", key)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("mounting a route without a policy did not panic")
		}
	}()
	a.Guard.Handler(access.Route{Method: "GET", Pattern: "/x", Handler: nil}, nil)
}

// Security §3.A A-9: every non-public route refuses an anonymous caller
// with 401 and changes nothing.
func TestAnonymousCallersAreRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		tn := newTenant(t, a, "anon")
		anon := a.Client(t)
		for _, rt := range a.API.Routes() {
			if rt.Policy.IsPublic() {
				continue
			}
			if res := send(anon, rt.Method, fill(rt.Pattern, tn, tn)); res.Status != http.StatusUnauthorized {
				t.Errorf("%s %s anonymous: %d %s", rt.Method, rt.Pattern, res.Status, res.Body)
			}
		}
		bad := a.Client(t)
		bad.Header.Set("Authorization", "Bearer prly_not_a_real_key")
		if res := bad.Do("GET", "/api/v1/workspaces/"+tn.ws, nil); res.Status != 401 || res.ErrorCode() != "invalid_api_key" {
			t.Errorf("bogus API key: %d %s", res.Status, res.Body)
		}
	})
}

// Promise P-03, security.md §3.A: as workspace A's owner, every
// member route answers 404 for workspace B, and for B's objects under A's
// workspace ID; B is unchanged.
func TestTenantIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		A, B := newTenant(t, a, "alpha"), newTenant(t, a, "bravo")
		before := snapshot(t, d, B.ws)
		keyA := a.Client(t)
		keyA.Header.Set("Authorization", "Bearer "+A.keys["admin"])
		for _, rt := range a.API.Routes() {
			if rt.Policy.MinRole() == "" {
				continue
			}
			for _, caller := range []struct {
				name string
				c    *apptest.Client
			}{{"A owner", A.owner.Client}, {"A admin key", keyA}} {
				path := fill(rt.Pattern, B, B)
				if res := send(caller.c, rt.Method, path); res.Status != http.StatusNotFound {
					t.Errorf("%s: %s %s (B's workspace) = %d %s, want 404", caller.name, rt.Method, rt.Pattern, res.Status, res.Body)
				}
				if strings.Count(rt.Pattern, "{") > 1 {
					// B's object under A's workspace: not found, or refused
					// before any lookup (422 for the probe body; 403 for a key
					// on a session-only route). Never a success.
					res := send(caller.c, rt.Method, fill(rt.Pattern, A, B))
					if res.Status != 404 && res.Status != 422 && !(res.Status == 403 && caller.name == "A admin key") {
						t.Errorf("%s: %s %s (B's object under A) = %d %s, want 404", caller.name, rt.Method, rt.Pattern, res.Status, res.Body)
					}
				}
			}
		}
		// Real actions, with valid bodies, on B's objects through A's workspace.
		A.owner.Do("PATCH", "/api/v1/workspaces/"+A.ws+"/members/"+B.admin.ID, map[string]string{"role": "viewer"}).Must(t, 404)
		A.owner.Do("DELETE", "/api/v1/workspaces/"+A.ws+"/members/"+B.admin.ID, nil).Must(t, 404)
		A.owner.Do("DELETE", "/api/v1/workspaces/"+A.ws+"/invitations/"+B.invitationID, nil).Must(t, 404)
		A.owner.Do("DELETE", "/api/v1/workspaces/"+A.ws+"/api-keys/"+B.keyID, nil).Must(t, 404)
		A.owner.Do("PATCH", "/api/v1/workspaces/"+B.ws, map[string]string{"name": "pwned"}).Must(t, 404)
		A.owner.Do("DELETE", "/api/v1/workspaces/"+A.ws+"/channels/"+B.channelID, nil).Must(t, 404)
		A.owner.Do("PUT", "/api/v1/workspaces/"+A.ws+"/channels/"+B.channelID+"/settings", map[string]string{"auto_reply": "pwned"}).Must(t, 404)
		A.owner.Do("POST", "/api/v1/workspaces/"+A.ws+"/conversations/"+B.conversationID+"/messages", map[string]string{"text": "pwned"}).Must(t, 404)
		A.owner.Do("PATCH", "/api/v1/workspaces/"+A.ws+"/conversations/"+B.conversationID, map[string]string{"owner": "nobody", "status": "resolved"}).Must(t, 404)
		A.owner.Do("PATCH", "/api/v1/workspaces/"+A.ws+"/conversations/"+B.conversationID, map[string]any{"assignee_id": A.agent.ID, "team_id": A.teamID}).Must(t, 404)
		A.owner.Do("PATCH", "/api/v1/workspaces/"+A.ws+"/conversations/"+A.conversationID, map[string]any{"assignee_id": B.agent.ID}).Must(t, 404)
		A.owner.Do("PATCH", "/api/v1/workspaces/"+A.ws+"/conversations/"+A.conversationID, map[string]any{"team_id": B.teamID}).Must(t, 404)
		A.owner.Do("POST", "/api/v1/workspaces/"+A.ws+"/conversations/"+B.conversationID+"/seen", nil).Must(t, 404)
		A.owner.Do("POST", "/api/v1/workspaces/"+A.ws+"/conversations/"+B.conversationID+"/typing", map[string]bool{"on": true}).Must(t, 404)
		A.owner.Do("GET", "/api/v1/workspaces/"+A.ws+"/conversations/"+B.conversationID+"/timeline", nil).Must(t, 404)
		A.owner.Do("PUT", "/api/v1/workspaces/"+B.ws+"/inbox-settings", map[string]any{"return_to_bot_after_minutes": 5}).Must(t, 404)
		A.owner.Do("PUT", "/api/v1/workspaces/"+A.ws+"/flows/"+B.flowID+"/draft", flowDoc).Must(t, 404)
		A.owner.Do("POST", "/api/v1/workspaces/"+A.ws+"/flows/"+B.flowID+"/publish", nil).Must(t, 404)
		A.owner.Do("POST", "/api/v1/workspaces/"+A.ws+"/flows/"+B.flowID+"/archive", nil).Must(t, 404)
		if after := snapshot(t, d, B.ws); after != before {
			t.Fatalf("workspace B changed:\nbefore %s\nafter  %s", before, after)
		}
		// Lists show only A's rows: a workspace filter in the query is ignored.
		var ms struct {
			Members []struct {
				UserID string `json:"user_id"`
			}
		}
		A.owner.Do("GET", "/api/v1/workspaces/"+A.ws+"/members?workspace_id="+B.ws, nil).Must(t, 200).JSON(t, &ms)
		for _, m := range ms.Members {
			if slices.Contains([]string{B.owner.ID, B.admin.ID, B.agent.ID, B.viewer.ID}, m.UserID) {
				t.Errorf("A's member list shows B's member %s", m.UserID)
			}
		}
		var mine struct{ Workspaces []struct{ ID string } }
		A.owner.Do("GET", "/api/v1/workspaces", nil).Must(t, 200).JSON(t, &mine)
		if len(mine.Workspaces) != 1 || mine.Workspaces[0].ID != A.ws {
			t.Errorf("A's owner lists %+v", mine.Workspaces)
		}
	})
}

func snapshot(t *testing.T, d *db.DB, ws string) string {
	t.Helper()
	var out []string
	for _, q := range []string{
		"SELECT name || plan FROM workspaces WHERE id = ?",
		"SELECT user_id || role FROM members WHERE workspace_id = ? ORDER BY user_id",
		"SELECT id || coalesce(cast(revoked_at AS TEXT), '-') FROM invitations WHERE workspace_id = ? ORDER BY id",
		"SELECT id || coalesce(cast(revoked_at AS TEXT), '-') FROM api_keys WHERE workspace_id = ? ORDER BY id",
		"SELECT id || status || token_state || auto_reply || profile || coalesce(cast(disconnected_at AS TEXT), '-') FROM channels WHERE workspace_id = ? ORDER BY id",
		"SELECT id || status || owner || coalesce(assignee_id, '-') || coalesce(team_id, '-') || coalesce(cast(snoozed_until AS TEXT), '-') || coalesce(cast(agent_last_seen_at AS TEXT), '-') || cast(updated_at AS TEXT) FROM conversations WHERE workspace_id = ? ORDER BY id",
		"SELECT id || status FROM messages WHERE workspace_id = ? ORDER BY id",
		"SELECT key || label || type || choices || coalesce(cast(archived_at AS TEXT), '-') FROM contact_fields WHERE workspace_id = ? ORDER BY key",
		"SELECT contact_id || field_id || cast(updated_at AS TEXT) FROM contact_field_values WHERE workspace_id = ? ORDER BY contact_id, field_id",
		"SELECT id || name || color FROM tags WHERE workspace_id = ? ORDER BY id",
		"SELECT contact_id || tag_id FROM contact_tags WHERE workspace_id = ? ORDER BY contact_id, tag_id",
		"SELECT id || coalesce(stage, '-') || cast(subscribed AS TEXT) FROM contacts WHERE workspace_id = ? ORDER BY id",
		"SELECT id || name || status || cast(draft_rev AS TEXT) || coalesce(cast(published_version AS TEXT), '-') FROM flows WHERE workspace_id = ? ORDER BY id",
		"SELECT flow_id || cast(version AS TEXT) FROM flow_versions WHERE workspace_id = ? ORDER BY flow_id, version",
		"SELECT cast(revision AS TEXT) FROM flow_revisions WHERE workspace_id = ?",
		"SELECT id || kind || coalesce(cast(edited_at AS TEXT), '-') FROM conversation_events WHERE workspace_id = ? ORDER BY id",
		"SELECT event_id || user_id || coalesce(cast(read_at AS TEXT), '-') FROM conversation_mentions WHERE workspace_id = ? ORDER BY event_id, user_id",
		"SELECT id || shortcut || title || body || cast(updated_at AS TEXT) FROM canned_responses WHERE workspace_id = ? ORDER BY id",
		"SELECT id || name || definition || cast(updated_at AS TEXT) FROM segments WHERE workspace_id = ? ORDER BY id",
		"SELECT id || state || cast(done_rows AS TEXT) FROM contact_imports WHERE workspace_id = ? ORDER BY id",
		"SELECT id || kind || coalesce(cast(edited_at AS TEXT), '-') FROM contact_activity WHERE workspace_id = ? ORDER BY id",
		"SELECT id || name || cast(position AS TEXT) || cast(is_default AS TEXT) FROM pipelines WHERE workspace_id = ? ORDER BY id",
		"SELECT id || name || cast(position AS TEXT) || color || outcome FROM pipeline_stages WHERE workspace_id = ? ORDER BY id",
		"SELECT contact_id || stage_id || cast(position AS TEXT) FROM pipeline_cards WHERE workspace_id = ? ORDER BY pipeline_id, contact_id",
		"SELECT id || name || description || cast(auto_assign AS TEXT) FROM teams WHERE workspace_id = ? ORDER BY id",
		"SELECT team_id || user_id FROM team_members WHERE workspace_id = ? ORDER BY team_id, user_id",
		"SELECT cast(default_capacity AS TEXT) || cast(auto_assign AS TEXT) FROM team_settings WHERE workspace_id = ?",
		"SELECT user_id || status || coalesce(cast(capacity AS TEXT), '-') FROM agent_availability WHERE workspace_id = ? ORDER BY user_id",
		"SELECT cast(return_to_bot_after_seconds AS TEXT) FROM inbox_settings WHERE workspace_id = ?",
	} {
		var rows []string
		if err := d.R.NewRaw(q, ws).Scan(t.Context(), &rows); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join(rows, ","))
	}
	return strings.Join(out, " | ")
}

// Promise P-04, security.md §3.B B-1, B-9: every member route × every role
// and API-key role is allowed exactly where its policy says, otherwise 403.
func TestRoleMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		tn := newTenant(t, a, "matrix")
		type caller struct {
			role   workspace.Role
			apiKey bool
			c      *apptest.Client
			scopes workspace.ScopeList
		}
		callers := []caller{
			{workspace.RoleOwner, false, tn.owner.Client, nil}, {workspace.RoleAdmin, false, tn.admin.Client, nil},
			{workspace.RoleAgent, false, tn.agent.Client, nil}, {workspace.RoleViewer, false, tn.viewer.Client, nil},
		}
		for _, role := range []workspace.Role{workspace.RoleAdmin, workspace.RoleAgent, workspace.RoleViewer} {
			c := a.Client(t)
			c.Header.Set("Authorization", "Bearer "+tn.keys[string(role)])
			callers = append(callers, caller{role, true, c, nil})
		}
		phone := a.Client(t)
		phone.Header.Set("Authorization", "Bearer "+tn.keys[scopedAgentKey])
		callers = append(callers, caller{workspace.RoleAgent, true, phone, workspace.ScopeList{workspace.ScopeCallLogsWrite}})
		ghost := &tenant{ws: tn.ws, viewer: &apptest.User{ID: "no-such-user"}, invitationID: "no-such-invitation", keyID: "no-such-key", token: "no-such-token",
			channelID: "no-such-channel", conversationID: "no-such-conversation", contactID: "no-such-contact",
			fieldKey: "no_such_field", tagID: "no-such-tag", flowID: "no-such-flow", noteID: "no-such-note", cannedID: "no-such-canned",
			pipelineID: "no-such-pipeline", stageID: "no-such-stage", contactNoteID: "no-such-note", teamID: "no-such-team",
			segmentID: "no-such-segment", importID: "no-such-import"}
		for _, rt := range a.API.Routes() {
			for _, cl := range callers {
				name := fmt.Sprintf("%s %s as %s", rt.Method, rt.Pattern, cl.role)
				if cl.apiKey {
					name += " key"
				}
				if len(cl.scopes) > 0 {
					name += fmt.Sprintf(" %v", cl.scopes)
				}
				var allowed bool
				switch {
				case rt.Policy.IsPublic():
					continue
				case rt.Policy.MinRole() == "":
					allowed = !cl.apiKey
				default:
					allowed = cl.role.AtLeast(rt.Policy.MinRole()) && (!cl.apiKey || rt.Policy.AllowsAPIKeys())
					// A route requiring a scope refuses keys without it (P-28).
					if sc := rt.Policy.RequiredScope(); sc != "" && cl.apiKey && !cl.scopes.Has(sc) {
						allowed = false
					}
					// A key with scopes reaches only the routes needing one.
					if cl.apiKey && len(cl.scopes) > 0 && rt.Policy.RequiredScope() == "" {
						allowed = false
					}
				}
				if strings.HasSuffix(rt.Pattern, "/membership") {
					continue // leaving cannot be probed without leaving; TestRoleChangesAndLastOwner covers it
				}
				res := send(cl.c, rt.Method, fill(rt.Pattern, ghost, ghost))
				switch {
				case allowed && (res.Status == 401 || res.Status == 403):
					t.Errorf("%s: refused with %d %s, but the policy allows it", name, res.Status, res.Body)
				case !allowed && res.Status != 403:
					t.Errorf("%s: %d %s, want 403", name, res.Status, res.Body)
				}
			}
		}
		// P-04 spelled out: agents and viewers never see API keys.
		for _, u := range []*apptest.User{tn.agent, tn.viewer} {
			res := u.Do("GET", "/api/v1/workspaces/"+tn.ws+"/api-keys", nil).Must(t, 403)
			if strings.Contains(string(res.Body), "prly_") {
				t.Error("API key material in a refusal")
			}
		}
	})
}

// Security §3.B B-4, B-5: a role change applies on the very next request,
// an admin cannot demote the owner, and the last owner cannot leave.
func TestRoleChangesAndLastOwner(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		tn := newTenant(t, a, "roles")
		base := "/api/v1/workspaces/" + tn.ws
		tn.admin.Do("GET", base+"/invitations", nil).Must(t, 200)
		tn.owner.Do("PATCH", base+"/members/"+tn.admin.ID, map[string]string{"role": "viewer"}).Must(t, 204)
		tn.admin.Do("GET", base+"/invitations", nil).Must(t, 403)
		tn.owner.Do("PATCH", base+"/members/"+tn.admin.ID, map[string]string{"role": "admin"}).Must(t, 204)

		tn.admin.Do("PATCH", base+"/members/"+tn.owner.ID, map[string]string{"role": "viewer"}).Must(t, 403)
		tn.admin.Do("DELETE", base+"/members/"+tn.owner.ID, nil).Must(t, 403)
		tn.admin.Do("PATCH", base+"/members/"+tn.agent.ID, map[string]string{"role": "owner"}).Must(t, 403)
		if code := tn.owner.Do("DELETE", base+"/membership", nil).Must(t, 409).ErrorCode(); code != "last_owner" {
			t.Fatalf("code %q", code)
		}
		if code := tn.owner.Do("DELETE", base+"/members/"+tn.owner.ID, nil).Must(t, 409).ErrorCode(); code != "last_owner" {
			t.Fatalf("code %q", code)
		}
		tn.owner.Do("PATCH", base+"/members/"+tn.owner.ID, map[string]string{"role": "admin"}).Must(t, 409)

		// A viewer may leave; then the workspace is gone for them (404).
		tn.viewer.Do("DELETE", base+"/members/"+tn.viewer.ID, nil).Must(t, 403)
		tn.viewer.Do("DELETE", base+"/membership", nil).Must(t, 204)
		tn.viewer.Do("GET", base, nil).Must(t, 404)
		// An agent cannot remove others.
		tn.agent.Do("DELETE", base+"/members/"+tn.admin.ID, nil).Must(t, 403)
	})
}

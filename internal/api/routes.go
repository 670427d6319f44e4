package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/calllog"
	"github.com/parleyhq/parley/internal/canned"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/channel/connect"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/csvio"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/dsr"
	"github.com/parleyhq/parley/internal/flow"
	"github.com/parleyhq/parley/internal/flow/run"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/media"
	"github.com/parleyhq/parley/internal/pipeline"
	"github.com/parleyhq/parley/internal/retention"
	"github.com/parleyhq/parley/internal/search"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/timeline"
	"github.com/parleyhq/parley/internal/workspace"
)

// API holds what the handlers need.
type API struct {
	Accounts   *account.Service
	Workspaces *workspace.Service
	Auth       *access.Auth
	Guard      *access.Guard
	DB         *db.DB
	Now        func() time.Time
	Log        *slog.Logger
	// BaseURL is the public URL, for links in responses.
	BaseURL string

	// Messaging: connected channels, connecting them, conversations and
	// the people in them.
	Channels *channel.Store
	Connect  *connect.Service
	Inbox    *inbox.Service
	Contacts *contact.Store

	// Flows are the workspace's chatbots: drafts and published versions.
	Flows *flow.Store
	// FlowRuns runs them: simulations, and the statistics of live runs.
	FlowRuns *run.Runner

	// Timeline keeps conversations' private notes and the mentions in them.
	Timeline *timeline.Store
	// Canned keeps the workspace's canned responses.
	Canned *canned.Store

	// Activity keeps contacts' activity logs and notes.
	Activity *activity.Store
	// Pipelines keeps the sales pipelines and their boards.
	Pipelines *pipeline.Store
	// ReconcilePipelines schedules placing a workspace's contacts on its
	// default pipeline after the default changes (nil: nothing scheduled).
	ReconcilePipelines func(ctx context.Context, workspaceID string) error

	// Segments keeps saved filters over contacts; Imports and Exports move
	// contacts in and out as CSV.
	Segments *segment.Store
	Imports  *csvio.Importer
	Exports  *csvio.Exporter

	// Teams keeps teams, agents' availability and capacity, and the
	// assignment settings (teams.go).
	Teams *team.Store

	// CallLogs records phones' call logs on leads' activity (P-28).
	CallLogs *calllog.Syncer

	// Search finds the workspace's contacts and messages (search.go);
	// SearchLimit is each member's budget of searches (nil: unlimited).
	Search      *search.Index
	SearchLimit *httpx.Limiter

	// MergeContacts merges the workspace's contact goneID into keepID with
	// every package's rows moved (the app's MergeContacts; nil: merging
	// answers 500).
	MergeContacts func(ctx context.Context, a audit.Actor, workspaceID, keepID, goneID string) (contact.Contact, error)

	// EraseContact and DeleteConversation delete a contact everywhere
	// (key destroyed) or one conversation (erasure.go; the app's, over
	// package erasure; nil: they answer 500).
	EraseContact       EraseFunc
	DeleteConversation EraseFunc

	// Retention keeps the workspace's retention periods and legal holds
	// (retention.go, promise P-35).
	Retention *retention.Service

	// Media keeps attachments sealed; SendAttachment stores and sends one
	// (attachments.go; nil: the attachment routes answer 500/404).
	Media          *media.Store
	SendAttachment AttachmentSender

	// DSR handles data-subject requests and contacts' privacy state
	// (dsr.go).
	DSR *dsr.Service

	// Deletion deletes workspaces on their owners' request (and cancels
	// that during the grace period); DeleteAccount deletes a person's own
	// account (deletion.go, promise P-33; nil: they answer 500).
	Deletion      *workspace.Deleter
	DeleteAccount AccountDeleter
}

// Routes is the whole JSON API surface with each route's access policy.
// Routes whose effect would outlive an administrator's impersonation (API
// keys, invitations, roles and membership, deleting the workspace or
// cancelling that, privacy exports, erasure, merging) are refused while
// impersonating (NotWhileImpersonating, security.md B-7).
func (a *API) Routes() []access.Route {
	var (
		public   = access.Public()
		signedIn = access.SignedIn()
		viewer   = access.Member(workspace.RoleViewer)
		agent    = access.Member(workspace.RoleAgent)
		admin    = access.Member(workspace.RoleAdmin)
	)
	const ws = "/api/v1/workspaces/{workspace_id}"
	return []access.Route{
		route("GET", "/api/v1/openapi.json", public, a.openAPIDoc),
		route("POST", "/api/v1/auth/signup", public, a.signup),
		route("POST", "/api/v1/auth/login", public, a.login),
		route("POST", "/api/v1/auth/login/2fa", public, a.loginSecondFactor),
		route("POST", "/api/v1/auth/logout", public, a.logout),

		route("GET", "/api/v1/me", signedIn, a.me),
		route("POST", "/api/v1/me/password", signedIn, a.changePassword),
		route("POST", "/api/v1/me/2fa/setup", signedIn, a.beginTOTP),
		route("POST", "/api/v1/me/2fa/enable", signedIn, a.enableTOTP),
		route("POST", "/api/v1/me/2fa/disable", signedIn, a.disableTOTP),
		route("POST", "/api/v1/me/2fa/recovery-codes", signedIn, a.regenerateRecoveryCodes),
		route("GET", "/api/v1/me/audit-log", signedIn, a.myAuditLog),
		// Deleting one's own account (deletion.go, P-33): the password again.
		route("DELETE", "/api/v1/me", signedIn, a.deleteAccount),

		route("GET", "/api/v1/workspaces", signedIn, a.listWorkspaces),
		route("POST", "/api/v1/workspaces", signedIn, a.createWorkspace),
		route("GET", "/api/v1/invitations/{token}", public, a.showInvitation),
		route("POST", "/api/v1/invitations/{token}/accept", signedIn, a.acceptInvitation),

		route("GET", ws, viewer, a.getWorkspace),
		route("PATCH", ws, admin, a.updateWorkspace),
		route("GET", ws+"/members", viewer, a.listMembers),
		route("PATCH", ws+"/members/{user_id}", admin.SessionOnly().NotWhileImpersonating(), a.changeRole),
		route("DELETE", ws+"/members/{user_id}", admin.SessionOnly().AllowedWhenReadOnly().NotWhileImpersonating(), a.removeMember),
		route("DELETE", ws+"/membership", viewer.SessionOnly().AllowedWhenReadOnly().NotWhileImpersonating(), a.leave),
		route("GET", ws+"/invitations", admin, a.listInvitations),
		route("POST", ws+"/invitations", admin.SessionOnly().NotWhileImpersonating(), a.invite),
		route("DELETE", ws+"/invitations/{invitation_id}", admin.SessionOnly().AllowedWhenReadOnly().NotWhileImpersonating(), a.revokeInvitation),
		route("GET", ws+"/api-keys", admin.SessionOnly(), a.listAPIKeys),
		route("POST", ws+"/api-keys", admin.SessionOnly().NotWhileImpersonating(), a.createAPIKey),
		route("DELETE", ws+"/api-keys/{key_id}", admin.SessionOnly().AllowedWhenReadOnly().NotWhileImpersonating(), a.revokeAPIKey),
		route("GET", ws+"/audit-log", admin, a.workspaceAuditLog),
		// Deleting the workspace (deletion.go, P-33): owners only, signed
		// in, also after a trial ended; cancelling is the one route that
		// reaches a workspace being deleted.
		route("POST", ws+"/deletion", access.Member(workspace.RoleOwner).SessionOnly().AllowedWhenReadOnly().NotWhileImpersonating(), a.requestWorkspaceDeletion),
		route("DELETE", ws+"/deletion", access.Member(workspace.RoleOwner).SessionOnly().AllowedWhenReadOnly().WhileDeleting().NotWhileImpersonating(), a.cancelWorkspaceDeletion),
		// Retention (P-35): everyone reads the periods, admins change them
		// and place legal holds (retention.go). Holds stay open after the
		// trial: placing one only stops deletion, lifting one resumes it.
		route("GET", ws+"/retention", viewer, a.getRetention),
		route("PUT", ws+"/retention", admin, a.putRetention),
		route("PUT", ws+"/retention/legal-hold", admin.AllowedWhenReadOnly(), a.putWorkspaceHold),
		route("DELETE", ws+"/retention/legal-hold", admin.AllowedWhenReadOnly(), a.deleteWorkspaceHold),
		route("PUT", ws+"/contacts/{contact_id}/legal-hold", admin.AllowedWhenReadOnly(), a.putContactHold),
		route("DELETE", ws+"/contacts/{contact_id}/legal-hold", admin.AllowedWhenReadOnly(), a.deleteContactHold),

		route("GET", ws+"/channels", viewer, a.listChannels),
		route("POST", ws+"/channels", admin, a.createChannel),
		route("GET", ws+"/channels/{channel_id}", viewer, a.getChannel),
		// Disconnecting is an exit: it stays open when the trial has ended.
		route("DELETE", ws+"/channels/{channel_id}", admin.AllowedWhenReadOnly(), a.disconnectChannel),
		route("PUT", ws+"/channels/{channel_id}/settings", admin, a.configureChannel),

		route("GET", ws+"/conversations", viewer, a.listConversations),
		route("GET", ws+"/conversations/{conversation_id}", viewer, a.getConversation),
		route("PATCH", ws+"/conversations/{conversation_id}", agent, a.updateConversation),
		route("GET", ws+"/conversations/{conversation_id}/messages", viewer, a.listMessages),
		route("POST", ws+"/conversations/{conversation_id}/messages", agent, a.reply),
		// Attachments (attachments.go): send a file; read one back.
		route("POST", ws+"/conversations/{conversation_id}/attachments", agent, a.sendAttachment),
		route("GET", ws+"/attachments/{attachment_id}", viewer, a.attachment),
		route("GET", ws+"/attachments/{attachment_id}/content", viewer, a.attachmentContent),
		// The shared inbox (P-24): everyone reads the full timeline; agents
		// mark conversations seen and show typing; admins set when a
		// silent conversation returns to the bot and whether new ones are
		// assigned (conversation_patch.go, conversation_timeline.go).
		route("GET", ws+"/conversations/{conversation_id}/timeline", viewer, a.conversationTimeline),
		route("POST", ws+"/conversations/{conversation_id}/seen", agent, a.markSeen),
		route("POST", ws+"/conversations/{conversation_id}/typing", agent, a.typing),
		route("GET", ws+"/inbox-settings", viewer, a.getInboxSettings),
		route("PUT", ws+"/inbox-settings", admin, a.putInboxSettings),
		route("GET", ws+"/contacts/{contact_id}", viewer, a.getContact),
		route("PATCH", ws+"/contacts/{contact_id}", agent, a.updateContact),

		// Custom fields and tags: admins define them, agents use them on
		// contacts (promises P-15, P-20, P-25).
		route("GET", ws+"/fields", viewer, a.listFields),
		route("POST", ws+"/fields", admin, a.defineField),
		route("PATCH", ws+"/fields/{key}", admin, a.updateField),
		route("POST", ws+"/fields/{key}/archive", admin, a.archiveField),
		route("POST", ws+"/fields/{key}/restore", admin, a.restoreField),
		route("GET", ws+"/tags", viewer, a.listTags),
		route("POST", ws+"/tags", admin, a.createTag),
		route("PATCH", ws+"/tags/{tag_id}", admin, a.updateTag),
		route("DELETE", ws+"/tags/{tag_id}", admin, a.deleteTag),
		route("GET", ws+"/contacts/{contact_id}/fields", viewer, a.contactFields),
		route("PUT", ws+"/contacts/{contact_id}/fields/{key}", agent, a.setContactField),
		route("DELETE", ws+"/contacts/{contact_id}/fields/{key}", agent, a.clearContactField),
		route("GET", ws+"/contacts/{contact_id}/tags", viewer, a.contactTags),
		route("POST", ws+"/contacts/{contact_id}/tags", agent, a.tagContact),
		route("DELETE", ws+"/contacts/{contact_id}/tags/{tag_id}", agent, a.untagContact),
		// Search over contacts and messages: everyone who reads them.
		route("GET", ws+"/search", viewer, a.searchWorkspace),
		// Merging two contacts cannot be undone: admins only (merge.go).
		route("POST", ws+"/contacts/{contact_id}/merge", admin.NotWhileImpersonating(), a.mergeContacts),
		// Erasure cannot be undone: admins only; open after a trial ends
		// (erasure.go, P-33).
		route("DELETE", ws+"/contacts/{contact_id}", admin.AllowedWhenReadOnly().NotWhileImpersonating(), a.eraseContact),
		route("DELETE", ws+"/conversations/{conversation_id}", admin.AllowedWhenReadOnly().NotWhileImpersonating(), a.deleteConversation),

		// Private notes on conversations: agents write them, their author
		// edits them, the author or an admin deletes them. Mentions are a
		// person's own (session only: an API key is nobody to mention).
		route("POST", ws+"/conversations/{conversation_id}/notes", agent, a.createNote),
		route("PATCH", ws+"/conversations/{conversation_id}/notes/{note_id}", agent, a.updateNote),
		route("DELETE", ws+"/conversations/{conversation_id}/notes/{note_id}", agent, a.deleteNote),
		route("GET", ws+"/mentions", viewer.SessionOnly(), a.listMentions),
		route("POST", ws+"/mentions/{note_id}/read", viewer.SessionOnly(), a.readMention),

		// Canned responses: admins write them, everyone finds them, agents
		// fill them in for a conversation.
		route("GET", ws+"/canned-responses", viewer, a.listCanned),
		route("POST", ws+"/canned-responses", admin, a.createCanned),
		route("GET", ws+"/canned-responses/{canned_id}", viewer, a.getCanned),
		route("PATCH", ws+"/canned-responses/{canned_id}", admin, a.updateCanned),
		route("DELETE", ws+"/canned-responses/{canned_id}", admin, a.deleteCanned),
		route("GET", ws+"/canned-responses/{canned_id}/render", agent, a.renderCanned),

		// Segments: saved filters over contacts from a closed list of
		// fields and operators. Admins save them, everyone reads them and
		// their members; agents preview a filter being built.
		route("GET", ws+"/segments", viewer, a.listSegments),
		route("POST", ws+"/segments", admin, a.createSegment),
		route("POST", ws+"/segments/preview", agent, a.previewSegment),
		route("GET", ws+"/segments/{segment_id}", viewer, a.getSegment),
		route("PATCH", ws+"/segments/{segment_id}", admin, a.updateSegment),
		route("DELETE", ws+"/segments/{segment_id}", admin, a.deleteSegment),
		route("GET", ws+"/segments/{segment_id}/contacts", viewer, a.segmentContacts),

		// CSV import and export of contacts: personal data in bulk, so
		// admins only. An import runs in the background; its report of
		// refused rows stays until the import is deleted.
		route("GET", ws+"/contact-imports", admin, a.listImports),
		route("POST", ws+"/contact-imports", admin, a.startImport),
		route("POST", ws+"/contact-imports/preview", admin, a.previewImport),
		route("GET", ws+"/contact-imports/{import_id}", admin, a.getImport),
		route("DELETE", ws+"/contact-imports/{import_id}", admin.AllowedWhenReadOnly(), a.deleteImport),
		route("GET", ws+"/contact-imports/{import_id}/errors", admin, a.importErrors),
		route("GET", ws+"/contact-imports/{import_id}/report.csv", admin, a.importReport),
		route("GET", ws+"/contacts/export.csv", admin, a.exportContacts),

		// A contact's activity log and notes (promise P-25): notes are
		// written by agents and changed by their author or an admin.
		route("GET", ws+"/contacts/{contact_id}/activity", viewer, a.listActivity),
		route("POST", ws+"/contacts/{contact_id}/notes", agent, a.createContactNote),
		route("PATCH", ws+"/contacts/{contact_id}/notes/{note_id}", agent, a.updateContactNote),
		route("DELETE", ws+"/contacts/{contact_id}/notes/{note_id}", agent, a.deleteContactNote),

		// Pipelines: admins define them and their stages, agents move
		// contacts' cards on the boards, everyone reads them.
		route("GET", ws+"/pipelines", viewer, a.listPipelines),
		route("POST", ws+"/pipelines", admin, a.createPipeline),
		route("GET", ws+"/pipelines/{pipeline_id}", viewer, a.getPipeline),
		route("PATCH", ws+"/pipelines/{pipeline_id}", admin, a.updatePipeline),
		route("DELETE", ws+"/pipelines/{pipeline_id}", admin, a.deletePipeline),
		route("POST", ws+"/pipelines/{pipeline_id}/stages", admin, a.addStage),
		route("PUT", ws+"/pipelines/{pipeline_id}/stage-order", admin, a.reorderStages),
		route("PATCH", ws+"/pipelines/{pipeline_id}/stages/{stage_id}", admin, a.updateStage),
		route("DELETE", ws+"/pipelines/{pipeline_id}/stages/{stage_id}", admin, a.deleteStage),
		route("GET", ws+"/pipelines/{pipeline_id}/board", viewer, a.board),
		route("PUT", ws+"/pipelines/{pipeline_id}/cards/{contact_id}", agent, a.putCard),
		route("DELETE", ws+"/pipelines/{pipeline_id}/cards/{contact_id}", agent, a.deleteCard),

		// Call-log sync from the mobile app (promise P-28): only keys issued
		// for it (scope call_logs:write) or signed-in agents may upload.
		route("POST", ws+"/call-logs", agent.Scope(workspace.ScopeCallLogsWrite), a.syncCallLogs),

		// Teams and assignment: admins manage teams, capacities and the
		// settings, everyone reads them; each agent sets their own status
		// (session only: an API key is nobody who could be online).
		route("GET", ws+"/teams", viewer, a.listTeams),
		route("POST", ws+"/teams", admin, a.createTeam),
		route("GET", ws+"/teams/{team_id}", viewer, a.getTeam),
		route("PATCH", ws+"/teams/{team_id}", admin, a.updateTeam),
		route("DELETE", ws+"/teams/{team_id}", admin, a.deleteTeam),
		route("PUT", ws+"/teams/{team_id}/members/{user_id}", admin, a.addTeamMember),
		route("DELETE", ws+"/teams/{team_id}/members/{user_id}", admin, a.removeTeamMember),
		route("GET", ws+"/agents", viewer, a.listAgents),
		route("PUT", ws+"/me/availability", agent.SessionOnly(), a.setMyAvailability),
		route("PUT", ws+"/agents/{user_id}/availability", admin, a.setAgentAvailability),
		route("PUT", ws+"/agents/{user_id}/capacity", admin, a.setAgentCapacity),
		route("GET", ws+"/assignment-settings", viewer, a.getAssignmentSettings),
		route("PUT", ws+"/assignment-settings", admin, a.putAssignmentSettings),

		// Flows: admins write and publish them, everyone reads them.
		// Archiving stops a bot, so it stays open after the trial ends.
		route("GET", ws+"/flows", viewer, a.listFlows),
		route("POST", ws+"/flows", admin, withProblems(a.createFlow)),
		route("GET", ws+"/flows/{flow_id}", viewer, a.getFlow),
		route("PUT", ws+"/flows/{flow_id}/draft", admin, withProblems(a.saveDraft)),
		route("POST", ws+"/flows/{flow_id}/publish", admin, withProblems(a.publishFlow)),
		route("GET", ws+"/flows/{flow_id}/export", viewer, a.exportFlow),
		route("GET", ws+"/flows/{flow_id}/versions", viewer, a.listVersions),
		route("POST", ws+"/flows/{flow_id}/archive", admin.AllowedWhenReadOnly(), a.archiveFlow),
		route("POST", ws+"/flows/{flow_id}/restore", admin, a.restoreFlow),
		// A simulation calls out (http nodes): editors only.
		route("POST", ws+"/flows/{flow_id}/simulate", admin, a.simulateFlow),
		route("GET", ws+"/flows/{flow_id}/stats", viewer, a.flowStats),
		// Data-subject requests and privacy state (P-34, P-40; dsr.go):
		// everyone reads; agents log and answer requests, set flags, record
		// consent and correct; admins export (personal data in bulk) and erase.
		route("GET", ws+"/privacy-requests", viewer, a.listPrivacyRequests),
		route("POST", ws+"/privacy-requests", agent, a.createPrivacyRequest),
		route("GET", ws+"/privacy-requests/{request_id}", viewer, a.getPrivacyRequest),
		route("POST", ws+"/privacy-requests/{request_id}/acknowledge", agent, a.acknowledgePrivacyRequest),
		route("POST", ws+"/privacy-requests/{request_id}/complete", agent, a.completePrivacyRequest),
		route("POST", ws+"/privacy-requests/{request_id}/refuse", agent, a.refusePrivacyRequest),
		route("POST", ws+"/privacy-requests/{request_id}/erase", admin.NotWhileImpersonating(), a.erasePrivacyRequest),
		route("GET", ws+"/contacts/{contact_id}/privacy", viewer, a.getContactPrivacy),
		route("PATCH", ws+"/contacts/{contact_id}/privacy", agent, a.patchContactPrivacy),
		route("GET", ws+"/contacts/{contact_id}/access-summary", viewer, a.contactAccessSummary),
		route("POST", ws+"/contacts/{contact_id}/consents", agent, a.recordConsent),
		route("POST", ws+"/contacts/{contact_id}/corrections", agent, a.correctContact),
		route("POST", ws+"/contacts/{contact_id}/exports", admin.NotWhileImpersonating(), a.startContactExport),
		route("GET", ws+"/privacy-exports/{export_id}", admin, a.getContactExport),
		route("GET", ws+"/privacy-exports/{export_id}/download", admin.NotWhileImpersonating(), a.downloadContactExport),
	}
}

// route keeps the table above to one line per endpoint.
func route(method, pattern string, p access.Policy, h httpx.HandlerFunc) access.Route {
	return access.Route{Method: method, Pattern: pattern, Policy: p, Handler: h}
}

// WriteError renders an API error as {"error":{…}}.
func WriteError(w http.ResponseWriter, r *http.Request, e *httpx.Error) { httpx.WriteError(w, r, e) }

// Mount registers every route on mux behind the guard, plus a JSON 404 for
// unknown /api/ paths.
func (a *API) Mount(mux *http.ServeMux) {
	for _, rt := range a.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, a.Guard.Handler(rt, WriteError))
	}
	mux.Handle("/api/", httpx.Serve(a.Log, WriteError, func(w http.ResponseWriter, r *http.Request) error {
		// A known path with another method is 405 with Allow, not 404.
		var allow []string
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "/api/" && pattern != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return &httpx.Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: r.Method + " is not allowed here; use " + strings.Join(allow, " or ") + "."}
		}
		return &httpx.Error{Status: http.StatusNotFound, Code: "no_such_route", Message: "There is no API endpoint " + r.Method + " " + r.URL.Path + "."}
	}))
}

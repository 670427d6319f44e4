package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/canned"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/channel/connect"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/csvio"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/dsr"
	"github.com/parleyhq/parley/internal/flow"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/killswitch"
	"github.com/parleyhq/parley/internal/media"
	"github.com/parleyhq/parley/internal/operator"
	"github.com/parleyhq/parley/internal/pipeline"
	"github.com/parleyhq/parley/internal/realtime"
	"github.com/parleyhq/parley/internal/retention"
	"github.com/parleyhq/parley/internal/search"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/timeline"
	"github.com/parleyhq/parley/internal/workspace"
)

// Deps is what the dashboard needs; internal/app wires it.
type Deps struct {
	Accounts   *account.Service
	Workspaces *workspace.Service
	// Auth runs sign-up, sign-in and sign-out with their rate limits, the
	// same flows the JSON API uses.
	Auth  *access.Auth
	Guard *access.Guard
	// DB writes audit entries for account changes and holds the
	// transactions that change two stores at once (a lead stage and the
	// default pipeline's card).
	DB  *db.DB
	Now func() time.Time
	Log *slog.Logger
	// BaseURL is Parley's public URL, for invitation links people copy.
	BaseURL string

	// Messaging: connected channels, connecting them, conversations and
	// the people in them.
	Channels *channel.Store
	Connect  *connect.Service
	Inbox    *inbox.Service
	Contacts *contact.Store
	// Flows keeps the workspace's flows, for the flow pages; the editor
	// island itself works through the JSON API.
	Flows *flow.Store
	// Simulator is the built-in test page; nil when the simulator is off.
	Simulator Simulator
	// Events is the live-update hub the conversation pages listen to
	// (GET …/events); nil leaves them on their slow poll.
	Events *realtime.Hub
	// Canned keeps the canned responses (Settings → Canned responses).
	Canned *canned.Store
	// Timeline keeps conversations' private notes and mentions.
	Timeline *timeline.Store
	// Activity keeps contacts' activity logs and notes (the contact
	// profile); Pipelines the sales pipelines and their boards.
	Activity  *activity.Store
	Pipelines *pipeline.Store
	// ReconcilePipelines schedules placing a workspace's contacts on its
	// default pipeline after the default changes (nil: nothing scheduled).
	ReconcilePipelines func(ctx context.Context, workspaceID string) error
	// Segments keeps saved filters over contacts (the contacts list's
	// filters); Imports and Exports move contacts in and out as CSV.
	Segments *segment.Store
	Imports  *csvio.Importer
	Exports  *csvio.Exporter
	// Teams keeps teams, availability and capacity (Settings → Teams, the
	// availability switch); the live stream marks its member as seen
	// (nil: no teams pages).
	Teams *team.Store
	// Search finds contacts and messages (the search box at the top of
	// every workspace page; nil: the search page finds nothing).
	// SearchLimit is each member's budget of searches, shared with the
	// JSON API (nil: unlimited).
	Search      *search.Index
	SearchLimit *httpx.Limiter
	// MergeContacts merges two contacts with every package's rows moved
	// (the contact merge page; nil: merging answers 500).
	MergeContacts MergeFunc
	// EraseContact and DeleteConversation delete a contact everywhere
	// (key destroyed) or one conversation (erasure.go; nil: the delete
	// pages answer 500).
	EraseContact       EraseFunc
	DeleteConversation EraseFunc
	// Presence hears that a member's dashboard is open: the live stream
	// (GET …/events) calls Seen when it opens and every PresenceEvery
	// while it stays open (default team.SeenEvery), so that round-robin
	// assignment knows who is at their desk (nil: nobody is told).
	Presence      Presence
	PresenceEvery time.Duration
	// StreamLifetime ends each live stream after this long (default
	// DefaultStreamLifetime); the browser reconnects through the access
	// checks again, so a member removed, signed out or a workspace deleted
	// meanwhile stops hearing its hints.
	StreamLifetime time.Duration
	// DeletionStatus finds Meta data-deletion requests for their public
	// status page, DeletionLimit bounds its look-ups per address, and
	// Operator is who the public privacy pages name (privacy_pages.go).
	DeletionStatus DeletionStatus
	DeletionLimit  *httpx.Limiter
	Operator       Operator
	// Retention keeps the retention periods and legal holds (Settings →
	// Data retention, retention.go).
	Retention *retention.Service
	// DSR handles data-subject requests and contacts' privacy state
	// (Privacy requests and each contact's privacy page, dsr.go).
	DSR *dsr.Service
	// Media keeps attachments sealed; SendAttachment stores and sends one
	// from the reply box; MediaPath is the public path prefix of the
	// signed URLs the platform fetches them from (attachments.go).
	Media          *media.Store
	SendAttachment AttachmentSender
	MediaPath      string
	// Deletion deletes and restores workspaces; DeleteAccount deletes a
	// person's own account (deletion.go, promise P-33; nil: those pages
	// answer 500).
	Deletion      *workspace.Deleter
	DeleteAccount AccountDeleter
	// KillSwitch and Console serve the operator console at /admin
	// (admin.go, promises P-06, P-37; nil: its pages answer 500).
	KillSwitch *killswitch.Service
	Console    *operator.Service
}

// Presence records that a member's dashboard is connected now
// (team.Store implements it).
type Presence interface {
	Seen(ctx context.Context, workspaceID, userID string) error
}

// Simulator is the built-in Meta simulator as the dashboard uses it: a
// test page a newcomer connects in one click, and a simulated customer
// they write as, so Parley can be tried without a Meta app.
type Simulator interface {
	// ConnectTestPage creates a test page and connects it to the workspace.
	ConnectTestPage(ctx context.Context, a audit.Actor, workspaceID string) (channel.Channel, error)
	// IsTestPage reports whether the channel is one of the simulator's pages.
	IsTestPage(ch channel.Channel) bool
	// WriteAsCustomer sends text to the test page as the simulated person
	// psid ("" = a new person) and returns the psid.
	WriteAsCustomer(ctx context.Context, ch channel.Channel, psid, text string) (string, error)
}

// Dashboard serves the dashboard's pages and assets.
type Dashboard struct {
	Deps
	pages  *pages
	assets *assets
	// zones are the time zones the settings page offers.
	zones zoneList
}

// New builds the dashboard. It panics if the embedded templates do not
// parse, which is a programming error caught by every test.
func New(deps Deps) *Dashboard {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	a := loadAssets()
	return &Dashboard{Deps: deps, assets: a, pages: loadPages(a), zones: newZoneList()}
}

// Routes is the dashboard's whole surface with each route's access policy.
// Dashboard routes never accept API keys (SessionOnly): keys belong to the
// JSON API. Routes whose effect would outlive an administrator's
// impersonation (API keys, invitations, roles and membership, deleting the
// workspace or cancelling that, privacy exports, erasure, merging) are
// refused while impersonating (NotWhileImpersonating, security.md B-7).
func (d *Dashboard) Routes() []access.Route {
	var (
		public   = access.Public()
		signedIn = access.SignedIn()
		viewer   = access.Member(workspace.RoleViewer).SessionOnly()
		agent    = access.Member(workspace.RoleAgent).SessionOnly()
		admin    = access.Member(workspace.RoleAdmin).SessionOnly()
	)
	const ws = "/w/{workspace_id}"
	// Workspace and account deletion: deletion.go.
	// The operator console: admin.go.
	return append(append(d.deletionRoutes(), d.adminRoutes()...), []access.Route{
		{Method: "GET", Pattern: "/static/{path...}", Policy: public, Handler: d.static},

		{Method: "GET", Pattern: "/signup", Policy: public, Handler: d.signupForm},
		{Method: "POST", Pattern: "/signup", Policy: public, Handler: d.signup},
		{Method: "GET", Pattern: "/login", Policy: public, Handler: d.loginForm},
		{Method: "POST", Pattern: "/login", Policy: public, Handler: d.login},
		{Method: "POST", Pattern: "/login/code", Policy: public, Handler: d.loginCode},
		// Public so that a browser whose session already ended can still
		// clear its cookie.
		{Method: "POST", Pattern: "/logout", Policy: public, Handler: d.logout},

		{Method: "GET", Pattern: "/{$}", Policy: signedIn, Handler: d.root},
		{Method: "GET", Pattern: "/workspaces/new", Policy: signedIn, Handler: d.newWorkspaceForm},
		{Method: "POST", Pattern: "/workspaces/new", Policy: signedIn, Handler: d.createWorkspace},

		{Method: "GET", Pattern: "/account/security", Policy: signedIn, Handler: d.security},
		{Method: "POST", Pattern: "/account/password", Policy: signedIn, Handler: d.changePassword},
		{Method: "POST", Pattern: "/account/2fa/setup", Policy: signedIn, Handler: d.beginTOTP},
		{Method: "POST", Pattern: "/account/2fa/enable", Policy: signedIn, Handler: d.enableTOTP},
		{Method: "POST", Pattern: "/account/2fa/disable", Policy: signedIn, Handler: d.disableTOTP},
		{Method: "POST", Pattern: "/account/2fa/recovery-codes", Policy: signedIn, Handler: d.regenerateCodes},

		// Public privacy pages and the Meta data-deletion status page
		// (privacy_pages.go, P-32).
		{Method: "GET", Pattern: "/privacy", Policy: public, Handler: d.privacyPolicy},
		{Method: "GET", Pattern: "/data-deletion", Policy: public, Handler: d.deletionStatus},
		{Method: "GET", Pattern: "/data-deletion/instructions", Policy: public, Handler: d.deletionInstructions},
		{Method: "GET", Pattern: "/invitations/{token}", Policy: public, Handler: d.invitation},
		{Method: "POST", Pattern: "/invitations/{token}/accept", Policy: signedIn, Handler: d.acceptInvitation},

		{Method: "GET", Pattern: ws, Policy: viewer, Handler: d.home},
		// Search over contacts and messages (search.go).
		{Method: "GET", Pattern: ws + "/search", Policy: viewer, Handler: d.searchPage},
		{Method: "GET", Pattern: ws + "/settings/general", Policy: viewer, Handler: d.general},
		{Method: "POST", Pattern: ws + "/settings/general", Policy: admin, Handler: d.updateGeneral},
		{Method: "GET", Pattern: ws + "/settings/team", Policy: viewer, Handler: d.team},
		{Method: "POST", Pattern: ws + "/settings/team/invitations", Policy: admin.NotWhileImpersonating(), Handler: d.invite},
		{Method: "POST", Pattern: ws + "/settings/team/invitations/{invitation_id}/revoke", Policy: admin.NotWhileImpersonating(), Handler: d.revokeInvitation},
		{Method: "POST", Pattern: ws + "/settings/team/members/{user_id}/role", Policy: admin.NotWhileImpersonating(), Handler: d.changeRole},
		// Any member may leave; removing someone else needs admin, which
		// the service decides. Leaving works even when the trial ended.
		{Method: "POST", Pattern: ws + "/settings/team/members/{user_id}/remove", Policy: viewer.AllowedWhenReadOnly().NotWhileImpersonating(), Handler: d.removeMember},
		{Method: "GET", Pattern: ws + "/settings/api-keys", Policy: admin, Handler: d.apiKeys},
		{Method: "POST", Pattern: ws + "/settings/api-keys", Policy: admin.NotWhileImpersonating(), Handler: d.createAPIKey},
		{Method: "POST", Pattern: ws + "/settings/api-keys/{key_id}/revoke", Policy: admin.AllowedWhenReadOnly().NotWhileImpersonating(), Handler: d.revokeAPIKey},
		// Custom fields and tags: admins define them, everyone sees them.
		{Method: "GET", Pattern: ws + "/settings/fields", Policy: viewer, Handler: d.fields},
		{Method: "POST", Pattern: ws + "/settings/fields", Policy: admin, Handler: d.defineField},
		{Method: "POST", Pattern: ws + "/settings/fields/{key}", Policy: admin, Handler: d.updateField},
		{Method: "POST", Pattern: ws + "/settings/fields/{key}/archive", Policy: admin, Handler: d.archiveField},
		{Method: "POST", Pattern: ws + "/settings/fields/{key}/restore", Policy: admin, Handler: d.restoreField},
		{Method: "GET", Pattern: ws + "/settings/tags", Policy: viewer, Handler: d.tags},
		{Method: "POST", Pattern: ws + "/settings/tags", Policy: admin, Handler: d.createTag},
		{Method: "POST", Pattern: ws + "/settings/tags/{tag_id}", Policy: admin, Handler: d.updateTag},
		{Method: "POST", Pattern: ws + "/settings/tags/{tag_id}/delete", Policy: admin, Handler: d.deleteTag},
		// Canned responses: admins write them, everyone reads them.
		{Method: "GET", Pattern: ws + "/settings/canned-responses", Policy: viewer, Handler: d.cannedResponses},
		{Method: "POST", Pattern: ws + "/settings/canned-responses", Policy: admin, Handler: d.createCanned},
		{Method: "POST", Pattern: ws + "/settings/canned-responses/{canned_id}", Policy: admin, Handler: d.updateCanned},
		{Method: "POST", Pattern: ws + "/settings/canned-responses/{canned_id}/delete", Policy: admin, Handler: d.deleteCanned},
		// Teams and assignment: admins manage them, everyone sees who is
		// online; each agent sets their own status from the chrome.
		{Method: "GET", Pattern: ws + "/settings/teams", Policy: viewer, Handler: d.teams},
		{Method: "POST", Pattern: ws + "/settings/teams", Policy: admin, Handler: d.createTeam},
		{Method: "POST", Pattern: ws + "/settings/teams/{team_id}", Policy: admin, Handler: d.updateTeam},
		{Method: "POST", Pattern: ws + "/settings/teams/{team_id}/delete", Policy: admin, Handler: d.deleteTeam},
		{Method: "POST", Pattern: ws + "/settings/teams/{team_id}/members", Policy: admin, Handler: d.addTeamMember},
		{Method: "POST", Pattern: ws + "/settings/teams/{team_id}/members/{user_id}/remove", Policy: admin, Handler: d.removeTeamMember},
		{Method: "POST", Pattern: ws + "/settings/assignment", Policy: admin, Handler: d.saveAssignment},
		// Data retention (P-35): everyone sees the periods, admins change
		// them and the legal hold (holds stay open after the trial).
		{Method: "GET", Pattern: ws + "/settings/retention", Policy: viewer, Handler: d.retentionSettings},
		{Method: "POST", Pattern: ws + "/settings/retention", Policy: admin, Handler: d.saveRetention},
		{Method: "POST", Pattern: ws + "/settings/retention/hold", Policy: admin.AllowedWhenReadOnly(), Handler: d.placeRetentionHold},
		{Method: "POST", Pattern: ws + "/settings/retention/hold/release", Policy: admin.AllowedWhenReadOnly(), Handler: d.releaseRetentionHold},
		{Method: "POST", Pattern: ws + "/availability", Policy: agent, Handler: d.setAvailability},

		{Method: "GET", Pattern: ws + "/channels", Policy: viewer, Handler: d.channels},
		{Method: "POST", Pattern: ws + "/channels/messenger/token", Policy: admin, Handler: d.connectToken},
		{Method: "POST", Pattern: ws + "/channels/test-page", Policy: admin, Handler: d.connectTestPage},
		// Facebook Login: the dialog, its callback (outside the workspace:
		// Meta calls one fixed address; the signed state names the
		// workspace), then choosing the pages.
		{Method: "GET", Pattern: ws + "/channels/messenger/connect", Policy: admin, Handler: d.beginLogin},
		{Method: "GET", Pattern: "/channels/messenger/callback", Policy: signedIn, Handler: d.loginCallback},
		{Method: "GET", Pattern: ws + "/channels/messenger/logins/{login_id}", Policy: admin, Handler: d.loginPages},
		{Method: "POST", Pattern: ws + "/channels/messenger/logins/{login_id}", Policy: admin, Handler: d.connectPages},
		{Method: "GET", Pattern: ws + "/channels/{channel_id}", Policy: viewer, Handler: d.channelPage},
		{Method: "POST", Pattern: ws + "/channels/{channel_id}/settings", Policy: admin, Handler: d.configureChannel},
		{Method: "GET", Pattern: ws + "/channels/{channel_id}/disconnect", Policy: admin, Handler: d.confirmDisconnect},
		// Disconnecting is an exit: it stays open when the trial has ended.
		{Method: "POST", Pattern: ws + "/channels/{channel_id}/disconnect", Policy: admin.AllowedWhenReadOnly(), Handler: d.disconnect},
		{Method: "POST", Pattern: ws + "/channels/{channel_id}/test-conversation", Policy: agent, Handler: d.startTestConversation},

		// Live-update hints for the open pages of the workspace (SSE).
		{Method: "GET", Pattern: ws + "/events", Policy: viewer, Handler: d.events},
		{Method: "GET", Pattern: ws + "/conversations", Policy: viewer, Handler: d.conversations},
		// The private notes that mention the reader (mentions.go).
		{Method: "GET", Pattern: ws + "/conversations/mentions", Policy: viewer, Handler: d.mentions},
		{Method: "GET", Pattern: ws + "/conversations/{conversation_id}", Policy: viewer, Handler: d.conversation},
		// The thread alone, polled by the conversation page.
		{Method: "GET", Pattern: ws + "/conversations/{conversation_id}/thread", Policy: viewer, Handler: d.thread},
		// Older timeline items, a page at a time ("Show earlier").
		{Method: "GET", Pattern: ws + "/conversations/{conversation_id}/thread/earlier", Policy: viewer, Handler: d.earlier},
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/reply", Policy: agent, Handler: d.reply},
		// Attachments (attachments.go): send a file from the reply box; the
		// member-only route the thread previews them through; the signed,
		// expiring URL the platform fetches a sent file from.
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/attachments", Policy: agent, Handler: d.sendAttachment},
		{Method: "GET", Pattern: ws + "/media/{object_id}", Policy: viewer, Handler: d.mediaObject},
		{Method: "GET", Pattern: "/media/{token}", Policy: public, Handler: d.publicMedia},
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/owner", Policy: agent, Handler: d.setOwner},
		// The inbox's actions (conversation_actions.go): assignment, team,
		// resolve/reopen, snooze, private notes, the typing indicator and
		// the reply box's canned responses.
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/assign", Policy: agent, Handler: d.assign},
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/team", Policy: agent, Handler: d.setTeam},
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/status", Policy: agent, Handler: d.setStatus},
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/snooze", Policy: agent, Handler: d.snooze},
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/notes", Policy: agent, Handler: d.addNote},
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/notes/{event_id}/edit", Policy: agent, Handler: d.editNote},
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/notes/{event_id}/delete", Policy: agent, Handler: d.deleteNote},
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/typing", Policy: agent, Handler: d.typing},
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/seen", Policy: agent, Handler: d.markSeen},
		{Method: "GET", Pattern: ws + "/conversations/{conversation_id}/canned", Policy: agent, Handler: d.cannedFor},
		// The contact panel: the conversation's contact's field values,
		// tags, lead stage and subscription.
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/contact/fields", Policy: agent, Handler: d.saveContactFields},
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/contact/fields/{key}/clear", Policy: agent, Handler: d.clearContactField},
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/contact/tags", Policy: agent, Handler: d.addContactTag},
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/contact/tags/{tag_id}/remove", Policy: agent, Handler: d.removeContactTag},
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/contact/lead", Policy: agent, Handler: d.saveLead},
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/as-customer", Policy: agent, Handler: d.writeAsCustomer},

		// Contacts: the list and each contact's profile with its activity
		// and notes (notes: the author or an admin deletes them).
		{Method: "GET", Pattern: ws + "/contacts", Policy: viewer, Handler: d.contacts},
		{Method: "GET", Pattern: ws + "/contacts/{contact_id}", Policy: viewer, Handler: d.contactProfile},
		// Saved segments (the list's filters) and CSV import, a wizard:
		// upload, map the columns, follow the progress. Admins only.
		{Method: "POST", Pattern: ws + "/segments", Policy: admin, Handler: d.saveSegment},
		{Method: "POST", Pattern: ws + "/segments/{segment_id}", Policy: admin, Handler: d.updateSegment},
		{Method: "POST", Pattern: ws + "/segments/{segment_id}/delete", Policy: admin, Handler: d.deleteSegment},
		{Method: "GET", Pattern: ws + "/contact-imports/new", Policy: admin, Handler: d.importUpload},
		{Method: "POST", Pattern: ws + "/contact-imports/new", Policy: admin, Handler: d.importMapping},
		{Method: "POST", Pattern: ws + "/contact-imports", Policy: admin, Handler: d.startImport},
		{Method: "GET", Pattern: ws + "/contact-imports/{import_id}", Policy: admin, Handler: d.importProgress},
		{Method: "GET", Pattern: ws + "/contacts/{contact_id}/activity", Policy: viewer, Handler: d.moreActivity},
		{Method: "POST", Pattern: ws + "/contacts/{contact_id}/notes", Policy: agent, Handler: d.addContactNote},
		{Method: "POST", Pattern: ws + "/contacts/{contact_id}/notes/{note_id}/delete", Policy: agent, Handler: d.deleteContactNote},
		{Method: "POST", Pattern: ws + "/contacts/{contact_id}/pipelines", Policy: agent, Handler: d.addToPipeline},
		// Merging two contacts cannot be undone: admins only (merge.go).
		{Method: "GET", Pattern: ws + "/contacts/{contact_id}/merge", Policy: admin, Handler: d.mergePage},
		{Method: "POST", Pattern: ws + "/contacts/{contact_id}/merge", Policy: admin.NotWhileImpersonating(), Handler: d.mergeContact},
		// Erasing a contact or deleting a conversation cannot be undone:
		// admins only, open after a trial ends (erasure.go, P-33).
		{Method: "GET", Pattern: ws + "/contacts/{contact_id}/delete", Policy: admin.AllowedWhenReadOnly(), Handler: d.eraseContactPage},
		{Method: "POST", Pattern: ws + "/contacts/{contact_id}/delete", Policy: admin.AllowedWhenReadOnly().NotWhileImpersonating(), Handler: d.eraseContact},
		{Method: "GET", Pattern: ws + "/conversations/{conversation_id}/delete", Policy: admin.AllowedWhenReadOnly(), Handler: d.deleteConversationPage},
		{Method: "POST", Pattern: ws + "/conversations/{conversation_id}/delete", Policy: admin.AllowedWhenReadOnly().NotWhileImpersonating(), Handler: d.deleteConversation},
		// Privacy requests and a contact's privacy page (dsr.go, P-34, P-40):
		// everyone reads; agents log and answer requests, set flags, record
		// consent and correct; admins export and erase.
		{Method: "GET", Pattern: ws + "/privacy-requests", Policy: viewer, Handler: d.privacyRequests},
		{Method: "POST", Pattern: ws + "/privacy-requests/{request_id}/erase", Policy: admin.NotWhileImpersonating(), Handler: d.eraseRequest},
		{Method: "POST", Pattern: ws + "/privacy-requests/{request_id}/{action}", Policy: agent, Handler: d.answerRequest},
		{Method: "GET", Pattern: ws + "/contacts/{contact_id}/privacy", Policy: viewer, Handler: d.contactPrivacy},
		{Method: "POST", Pattern: ws + "/contacts/{contact_id}/privacy/requests", Policy: agent, Handler: d.logRequest},
		{Method: "POST", Pattern: ws + "/contacts/{contact_id}/privacy/flags", Policy: agent, Handler: d.saveFlags},
		{Method: "POST", Pattern: ws + "/contacts/{contact_id}/privacy/consents", Policy: agent, Handler: d.saveConsent},
		{Method: "POST", Pattern: ws + "/contacts/{contact_id}/privacy/correction", Policy: agent, Handler: d.saveCorrection},
		{Method: "POST", Pattern: ws + "/contacts/{contact_id}/privacy/exports", Policy: admin.NotWhileImpersonating(), Handler: d.startExport},
		{Method: "GET", Pattern: ws + "/privacy-exports/{export_id}/download", Policy: admin.NotWhileImpersonating(), Handler: d.downloadExport},

		// Pipelines: admins create them and edit their stages, agents
		// move cards on the boards, everyone sees them.
		{Method: "GET", Pattern: ws + "/pipelines", Policy: viewer, Handler: d.pipelines},
		{Method: "POST", Pattern: ws + "/pipelines", Policy: admin, Handler: d.createPipeline},
		{Method: "GET", Pattern: ws + "/pipelines/{pipeline_id}", Policy: viewer, Handler: d.board},
		{Method: "GET", Pattern: ws + "/pipelines/{pipeline_id}/columns/{stage_id}", Policy: viewer, Handler: d.moreCards},
		{Method: "POST", Pattern: ws + "/pipelines/{pipeline_id}/cards", Policy: agent, Handler: d.moveCard},
		{Method: "GET", Pattern: ws + "/pipelines/{pipeline_id}/settings", Policy: admin, Handler: d.pipelineSettings},
		{Method: "POST", Pattern: ws + "/pipelines/{pipeline_id}/settings", Policy: admin, Handler: d.renamePipeline},
		{Method: "POST", Pattern: ws + "/pipelines/{pipeline_id}/default", Policy: admin, Handler: d.makeDefault},
		{Method: "POST", Pattern: ws + "/pipelines/{pipeline_id}/delete", Policy: admin, Handler: d.deletePipeline},
		{Method: "POST", Pattern: ws + "/pipelines/{pipeline_id}/stages", Policy: admin, Handler: d.addStage},
		{Method: "POST", Pattern: ws + "/pipelines/{pipeline_id}/stages/{stage_id}", Policy: admin, Handler: d.updateStage},
		{Method: "POST", Pattern: ws + "/pipelines/{pipeline_id}/stages/{stage_id}/move", Policy: admin, Handler: d.moveStage},
		{Method: "POST", Pattern: ws + "/pipelines/{pipeline_id}/stages/{stage_id}/delete", Policy: admin, Handler: d.deleteStage},

		// Flows: the list, creating and importing, the editor page (the
		// island inside it uses the JSON API) and archiving. Archiving is
		// an exit: it stays open when the trial has ended.
		{Method: "GET", Pattern: ws + "/flows", Policy: viewer, Handler: d.flows},
		{Method: "POST", Pattern: ws + "/flows", Policy: admin, Handler: d.createFlow},
		{Method: "POST", Pattern: ws + "/flows/import", Policy: admin, Handler: d.importFlow},
		{Method: "GET", Pattern: ws + "/flows/{flow_id}", Policy: viewer, Handler: d.flowEditor},
		{Method: "POST", Pattern: ws + "/flows/{flow_id}/archive", Policy: admin.AllowedWhenReadOnly(), Handler: d.archiveFlow},
		{Method: "POST", Pattern: ws + "/flows/{flow_id}/restore", Policy: admin, Handler: d.restoreFlow},
	}...)
}

// Mount registers every route on mux behind the guard, and a catch-all that
// answers the friendly 404 page for any other path (the JSON API's own
// catch-all, /api/, is more specific and wins for its paths).
func (d *Dashboard) Mount(mux *http.ServeMux) {
	for _, rt := range d.Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, d.Guard.Handler(rt, d.writeError))
	}
	mux.Handle("/", httpx.Serve(d.Log, d.writeError, func(w http.ResponseWriter, r *http.Request) error {
		return httpx.NotFound("page")
	}))
}

// Package api is Parley's public JSON API under /api/v1: authentication,
// the caller's account, workspaces and everything under
// /api/v1/workspaces/{workspace_id}/…: members, invitations, API keys, the
// audit log, channels (connecting a Page by token, health, settings),
// conversations with their messages and agent replies, the shared inbox
// (conversations.go: the list filtered by status, assignee, team, channel,
// tag and unread, paged by next_cursor; conversation_patch.go: assignment,
// team, owner — takeover and return to bot — status and snooze;
// conversation_timeline.go: the full timeline, mark seen, typing;
// inbox_settings.go: return to bot after silence, auto-assignment),
// contacts (with their lead stage and subscription), custom fields and
// tags, and flows
// (import, draft, publish, export, versions, archive), and call-log
// uploads from the mobile app (calllogs.go, P-28: only keys carrying the
// scope call_logs:write or signed-in agents; the answer is counts, the
// body is never logged or repeated, and unmatched calls and every name are
// never kept), and teams and assignment (teams.go: teams and their
// members, agents' status, load and capacity, the workspace's assignment
// settings; each agent sets their own status with a session), a
// contact's activity log and notes (activity.go), and pipelines with their
// stages, boards and cards (pipelines.go; a PATCH of a contact's lead stage
// moves its card on the default pipeline in the same transaction). Every
// route is an access.Route with a declared policy (routes.go is the whole
// surface on one screen); errors are always {"error":{"code","message"}}
// with a stable code (flow documents answer with their problems too).
// Channel tokens and secret flow header values never appear in any
// response.
//
// api calls the domain services; it holds no business rules of its own.
// It must not import web or app.
package api

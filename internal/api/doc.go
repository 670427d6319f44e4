// Package api is Parley's public JSON API under /api/v1: authentication,
// the caller's account, workspaces and everything under
// /api/v1/workspaces/{workspace_id}/…: members, invitations, API keys, the
// audit log, channels (connecting a Page by token, health, settings),
// conversations with their messages and agent replies, contacts (with
// their lead stage and subscription), custom fields and tags, and flows
// (import, draft, publish, export, versions, archive). Every
// route is an access.Route with a declared policy (routes.go is the whole
// surface on one screen); errors are always {"error":{"code","message"}}
// with a stable code (flow documents answer with their problems too).
// Channel tokens and secret flow header values never appear in any
// response.
//
// api calls the domain services; it holds no business rules of its own.
// It must not import web or app.
package api

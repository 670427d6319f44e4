// Package api is Parley's public JSON API under /api/v1: authentication,
// the caller's account, workspaces and everything under
// /api/v1/workspaces/{workspace_id}/…: members, invitations, API keys, the
// audit log, channels (connecting a Page by token, health, settings),
// conversations with their messages and agent replies, and contacts. Every
// route is an access.Route with a declared policy (routes.go is the whole
// surface on one screen); errors are always {"error":{"code","message"}}
// with a stable code. Channel tokens never appear in any response.
//
// api calls the domain services; it holds no business rules of its own.
// It must not import web or app.
package api

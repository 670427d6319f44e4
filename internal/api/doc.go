// Package api is Parley's public JSON API under /api/v1: authentication,
// the caller's account, workspaces and everything under
// /api/v1/workspaces/{workspace_id}/…. Every route is an access.Route with a
// declared policy (routes.go is the whole surface on one screen); errors are
// always {"error":{"code","message"}} with a stable code.
//
// api calls the domain services; it holds no business rules of its own.
// It must not import web or app.
package api

// Package access decides who is calling and whether they may: it resolves the
// caller from the session cookie or an API key, enforces each route's
// declared Policy (public, signed in, member of the workspace in the path
// with at least some role), keeps tenants apart (another workspace's objects
// answer 404, never 403), turns an expired trial into read-only (402),
// requires an API key scope on the few routes that declare one
// (Policy.Scope: a key without it gets 403, a signed-in member of the
// route's role is let through), refuses the routes marked
// NotWhileImpersonating while a platform administrator acts as someone
// else (what would outlive the impersonation), and runs the sign-up,
// sign-in and sign-out flows shared by the JSON API and the dashboard, with
// their rate limits and audit entries.
//
// Every route of every surface is an access.Route; the route-table tests in
// api and web fail on a route without a policy.
//
// access imports account, workspace, audit and httpx; it must not import api,
// web or app.
package access

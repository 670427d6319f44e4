// Package workspace owns tenants: workspaces and their plans and trials,
// members and their roles, invitations, and API keys (tables workspaces,
// members, invitations and api_keys of migration 00002). Every mutation is
// written to the audit log (package audit) inside the transaction that makes
// it, so an entry exists exactly when the change does (promise P-06).
//
// # Tenancy (promise P-03)
//
// Every tenant row carries workspace_id and every query and mutation names
// it in its WHERE clause. An object ID that belongs to another workspace is
// reported as db.ErrNotFound (wrapped), exactly like an ID that does not
// exist, and nothing changes. Only two lookups are not scoped by a
// workspace, because the secret itself is the capability: an invitation by
// its link token and an API key by its secret. Both look up the SHA-256 of
// the secret; neither secret is ever stored (promise P-08).
//
// # Roles (promise P-04)
//
// Roles rank owner > admin > agent > viewer. The HTTP layer (package access)
// decides which role may call which endpoint; this service enforces the
// rules below again, from the acting role it is given, so a mistake in a
// route declaration cannot grant more than the rules allow:
//
//   - An owner may do anything: invite, promote, demote and remove members of
//     any role, owners included, and issue API keys.
//   - An admin may invite, promote, demote and remove admins, agents and
//     viewers, and issue API keys, but may not invite anyone as owner, make
//     anyone owner, or change or remove an owner (ErrRoleNotAllowed).
//   - Agents and viewers manage nothing (ErrRoleNotAllowed), except that any
//     member may leave a workspace.
//   - The last owner can be neither demoted nor removed, and cannot leave
//     (ErrLastOwner): a workspace always has someone who can manage it.
//   - API keys are admin, agent or viewer, never owner, and never above the
//     role of whoever issues them.
//   - An API key may also carry scopes (scope.go, migration 00023) from a
//     closed list, each needing a least role (call_logs:write: agent).
//     Scopes add to a key's role and never narrow it: a key without
//     scopes, every key made before scopes existed included, keeps
//     working everywhere its role allows; a route that requires a scope
//     (access.Policy.Scope) refuses keys without it.
//
// When a member is removed, leaves or is demoted, the pending invitations
// they sent and the API keys they made for roles they may no longer grant
// are revoked in the same transaction, so an admin cannot keep a way back in
// through an invitation sent to another address, or keep acting through a
// key, after being removed. (Integrations on such a key must get a new one
// from someone who stays: a key never outranks the person answerable for it.)
//
// Renaming, changing the time zone, revoking invitations and revoking API
// keys take no acting role: they are admin actions gated by the HTTP layer
// and touch no member's role.
//
// Accepting an invitation as someone who is already a member keeps the
// higher of the two roles: an invitation never demotes anyone (demotion is
// an explicit role change), and an invitation for a higher role was issued
// by someone entitled to grant it.
//
// # Plans and trials (promise P-07)
//
// A new workspace starts on plan "trial" ending Options.TrialDays after its
// creation. Once a trial has ended, Workspace.ReadOnly reports true: the HTTP
// layer then refuses writes (402 trial_expired) while every read keeps
// working and no data is removed. SetPlan (called by billing) moves a
// workspace to a paid plan, which makes it writable again. The service
// itself does not refuse writes to a read-only workspace, so that security
// actions (removing a member, revoking a key) keep working whatever the plan.
//
// # Time zone
//
// Each workspace has an IANA time zone (column time_zone of migration
// 00016, "UTC" until changed), in which flows read business hours that
// name no zone of their own. ParseTimeZone is the one check of a zone
// name; TimeZones lists the zones people choose from. The runner asks
// TimeZone on every turn, so it remembers each answer for
// Options.TimeZoneTTL: a change made on another replica reaches this one
// within that time, one made through this service at once. The zones load
// from the zone database embedded in the binary (time/tzdata, imported by
// cmd/parley), so hosts without /usr/share/zoneinfo work the same.
//
// # Deletion (promise P-33)
//
// An owner deletes a workspace with their password and its name typed
// (Deleter, delete.go, migration 00030). From then on Workspace.Deleting
// reports true and the access layer refuses the workspace on every route
// but its deletion page, so it is gone for everyone at once; its channels
// are closed. During the grace period (at most 30 days) an owner may
// cancel and get everything back. Then a durable job purges it
// (delete_purge.go): keys destroyed and a tombstone recorded first, then
// every row of every table with a workspace_id column, in bounded batches,
// children before parents, read from the live schema so that new tables
// are purged without being listed. The audit log and the tables named in
// DeleteOptions.Retained are kept. SoleOwnerships (delete_owner.go) is the
// last-owner rule of account deletion.
//
// # Imports
//
// workspace imports db, audit and validate. It must not import net/http or
// any HTTP package (handlers live in api and web, authorization in access),
// nor anything above it in the dependency rule. The per-workspace data key
// is created through the KeyCreator interface, which *keyring.Keyring
// satisfies and app wires in, so tests can fake it and watch it fail.
package workspace

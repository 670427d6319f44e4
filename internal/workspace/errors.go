package workspace

import (
	"errors"
	"fmt"

	"github.com/parleyhq/parley/internal/db"
)

// Errors the service returns besides db.ErrNotFound (wrapped) for missing or
// foreign objects and *validate.Error for bad input.
var (
	// ErrRoleNotAllowed: the acting role may not grant, change or remove that
	// role (see the rules in the package documentation). Maps to 403.
	ErrRoleNotAllowed = errors.New("role not allowed")

	// ErrLastOwner: the change would leave the workspace without an owner.
	// It wraps db.ErrConflict (409).
	ErrLastOwner = fmt.Errorf("the last owner cannot be demoted or removed: %w", db.ErrConflict)

	// ErrAlreadyMember: the invited address already belongs to a member.
	// It wraps db.ErrConflict (409).
	ErrAlreadyMember = fmt.Errorf("already a member: %w", db.ErrConflict)

	// ErrInvitationInvalid: the invitation token is unknown, malformed,
	// expired, revoked or already used. The cases are not told apart, so a
	// token cannot be probed.
	ErrInvitationInvalid = errors.New("invitation is invalid or has expired")

	// ErrInvitationEmailMismatch: the invitation was sent to another address
	// than the signed-in user's.
	ErrInvitationEmailMismatch = errors.New("invitation was sent to another e-mail address")

	// ErrInvalidAPIKey: the API key is unknown, malformed or revoked. Maps to 401.
	ErrInvalidAPIKey = errors.New("invalid api key")
)

// Audit actions written by the service (target types in parentheses).
const (
	ActionWorkspaceCreate     = "workspace.create"           // (workspace)
	ActionWorkspaceRename     = "workspace.rename"           // (workspace)
	ActionWorkspacePlanChange = "workspace.plan_change"      // (workspace)
	ActionWorkspaceTimeZone   = "workspace.time_zone_change" // (workspace)
	ActionMemberRoleChange    = "member.role_change"         // (user)
	ActionMemberRemove        = "member.remove"              // (user)
	ActionMemberLeave         = "member.leave"               // (user)
	ActionInvitationCreate    = "invitation.create"          // (invitation)
	ActionInvitationRevoke    = "invitation.revoke"          // (invitation)
	ActionInvitationAccept    = "invitation.accept"          // (invitation)
	ActionAPIKeyCreate        = "api_key.create"             // (api_key)
	ActionAPIKeyRevoke        = "api_key.revoke"             // (api_key)
)

// Audit target types.
const (
	targetWorkspace  = "workspace"
	targetUser       = "user"
	targetInvitation = "invitation"
	targetAPIKey     = "api_key"
)

package access

import (
	"errors"
	"net/http"
	"strings"

	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/workspace"
)

func workspaceError(err error) error {
	switch {
	case errors.Is(err, workspace.ErrLastOwner):
		return httpx.Conflict("last_owner", "A workspace needs at least one owner. Make someone else an owner first.")
	case errors.Is(err, workspace.ErrRoleNotAllowed):
		return httpx.Forbidden("Your role cannot give, change or remove that role.")
	case errors.Is(err, workspace.ErrInvitationInvalid):
		return &httpx.Error{Status: http.StatusGone, Code: "invitation_invalid", Message: "This invitation has expired, was revoked or was already used. Ask for a new one."}
	case errors.Is(err, workspace.ErrInvitationEmailMismatch):
		return httpx.Forbidden("This invitation was sent to a different e-mail address. Sign in with that address to accept it.")
	case errors.Is(err, workspace.ErrAlreadyMember):
		return httpx.Conflict("already_member", "That person is already a member of this workspace.")
	case errors.Is(err, workspace.ErrInvalidAPIKey):
		return errBadKey
	case errors.Is(err, workspace.ErrDeleting):
		return httpx.Conflict("already_deleting", "This workspace is already being deleted.")
	case errors.Is(err, workspace.ErrNotDeleting):
		return httpx.Conflict("not_deleting", "This workspace is not being deleted.")
	case errors.Is(err, workspace.ErrPurgeStarted):
		return httpx.Conflict("purge_started", "The grace period is over: the workspace has been deleted and cannot be restored.")
	}
	return nil
}

func accountError(err error) error {
	if e, ok := account.IsSoleOwner(err); ok {
		return httpx.Conflict("last_owner", "You are the only owner of "+strings.Join(e.Workspaces, ", ")+
			". Make someone else an owner there, or delete the workspace, before deleting your account.")
	}
	switch {
	case errors.Is(err, account.ErrEmailTaken):
		return httpx.Conflict("email_taken", "An account with that e-mail already exists. Sign in instead.")
	case errors.Is(err, account.ErrInvalidCredentials):
		return ErrInvalidCredentials
	case errors.Is(err, account.ErrTOTPInvalid):
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_code", Field: "code", Message: "That code is not right. Enter the current 6-digit code from your authenticator app."}
	case errors.Is(err, account.ErrTOTPNotPending):
		return httpx.Conflict("totp_not_started", "Start two-factor setup first.")
	case errors.Is(err, account.ErrTOTPAlreadyEnabled):
		return httpx.Conflict("totp_already_enabled", "Two-factor authentication is already on.")
	case errors.Is(err, account.ErrTOTPNotEnabled):
		return httpx.Conflict("totp_not_enabled", "Two-factor authentication is not on.")
	case errors.Is(err, account.ErrTOTPEnforced):
		return httpx.Forbidden("Platform administrators must keep two-factor authentication on.")
	}
	return nil
}

// DeletionError maps what deleting a workspace or one's own account can
// fail with, for the API and the dashboard alike: there a wrong password
// is a field error of the confirmation form (not a failed sign-in), a
// missing workspace is the workspace, and a role refusal means an owner
// was demoted meanwhile (the routes let only owners through).
func DeletionError(err error) error {
	switch {
	case errors.Is(err, account.ErrInvalidCredentials):
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_password", Field: "password", Message: "That is not your password."}
	case errors.Is(err, db.ErrNotFound):
		return httpx.NotFound("workspace")
	case errors.Is(err, workspace.ErrRoleNotAllowed):
		return httpx.Forbidden("Only an owner of the workspace can do this.")
	}
	return DomainError(err)
}

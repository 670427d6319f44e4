package access

import (
	"errors"
	"net/http"

	"github.com/parleyhq/parley/internal/account"
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
	}
	return nil
}

func accountError(err error) error {
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

package account

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/validate"
)

// MaxNameLen is the longest display name, in characters.
const MaxNameLen = 100

// SignUp is what a person submits to create an account (promise P-01).
type SignUp struct {
	Email    string
	Password string
	// Name is the optional display name.
	Name string
	// AgeConfirmed is the person's attestation of being 18 or older; it
	// must be true.
	AgeConfirmed bool
}

// fieldErr returns a *validate.Error as an error.
func fieldErr(field, message string) error { return validate.Field(field, message) }

// SignUp creates an account. Bad input returns a *validate.Error naming
// "email", "password", "name" or "age_confirmed"; an address already
// registered in any letter case returns ErrEmailTaken. Nothing is written
// unless it succeeds.
func (s *Service) SignUp(ctx context.Context, in SignUp) (*User, error) {
	email, key, err := validate.Email("email", in.Email)
	if err != nil {
		return nil, err
	}
	if err := ValidatePassword("password", in.Password, email); err != nil {
		return nil, err
	}
	name, err := validate.Name("name", in.Name, MaxNameLen, true)
	if err != nil {
		return nil, err
	}
	if !in.AgeConfirmed {
		return nil, fieldErr("age_confirmed", "You must be 18 or older to use Parley.")
	}
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	now := s.now()
	r := &userRow{
		ID: uuid.Must(uuid.NewV7()).String(), Email: email, EmailKey: key, Name: name,
		PasswordHash: hash, AgeConfirmedAt: now, PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now,
	}
	// The unique index on email_key decides races between two sign-ups.
	if _, err := s.d.W.NewInsert().Model(r).Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return nil, ErrEmailTaken
		}
		return nil, fmt.Errorf("account: sign up: %w", err)
	}
	return r.user(), nil
}

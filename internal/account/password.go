package account

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password length limits, in Unicode code points (see doc.go).
const (
	MinPasswordLen = 8
	MaxPasswordLen = 256
)

// hashPrefix names the pre-hash scheme and pepper version of a stored hash.
const hashPrefix = "v1$"

//go:embed common_passwords.txt
var commonPasswordsTxt string

// commonPasswords is the set parsed from common_passwords.txt. It is built
// once at start-up and only ever read.
var commonPasswords = parseCommon(commonPasswordsTxt)

func parseCommon(txt string) map[string]struct{} {
	set := make(map[string]struct{}, 512)
	sc := bufio.NewScanner(strings.NewReader(txt))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[strings.ToLower(line)] = struct{}{}
	}
	return set
}

// ValidatePassword applies the password policy of doc.go to a new password
// for the account with that e-mail address, returning a *validate.Error
// naming field when it falls short.
func ValidatePassword(field, password, email string) error {
	if !utf8.ValidString(password) {
		return fieldErr(field, "The password is not valid text.")
	}
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return fieldErr(field, fmt.Sprintf("Use at least %d characters.", MinPasswordLen))
	case n > MaxPasswordLen:
		return fieldErr(field, fmt.Sprintf("Use at most %d characters.", MaxPasswordLen))
	}
	lower := strings.ToLower(strings.TrimSpace(password))
	if _, common := commonPasswords[lower]; common {
		return fieldErr(field, "That password is one of the most common ones; choose another.")
	}
	if key := emailKey(email); key != "" {
		local := key
		if i := strings.LastIndexByte(key, '@'); i >= 0 {
			local = key[:i]
		}
		if lower == key || lower == local {
			return fieldErr(field, "Don't use your e-mail address as your password.")
		}
	}
	return nil
}

// prehash turns a password of any length into 44 bytes for bcrypt: base64
// (bcrypt stops at a NUL byte) of HMAC-SHA256 under the pepper.
func (s *Service) prehash(password string) []byte {
	mac := hmac.New(sha256.New, s.pepper)
	mac.Write([]byte(password))
	sum := mac.Sum(nil)
	out := make([]byte, base64.StdEncoding.EncodedLen(len(sum)))
	base64.StdEncoding.Encode(out, sum)
	return out
}

// hashPassword returns the stored form of a password at the configured cost.
func (s *Service) hashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword(s.prehash(password), s.opt.BcryptCost)
	if err != nil {
		return "", fmt.Errorf("account: hash password: %w", err)
	}
	return hashPrefix + string(h), nil
}

// checkPassword reports whether password matches stored. It always runs
// exactly one bcrypt comparison, whatever the outcome, so that its time does
// not depend on what is wrong.
func (s *Service) checkPassword(stored, password string) (bool, error) {
	h, ok := strings.CutPrefix(stored, hashPrefix)
	if !ok {
		// Compare anyway to keep the timing, then report the corrupt row.
		s.compare([]byte(s.dummyHash[len(hashPrefix):]), s.prehash(password))
		return false, errors.New("account: check password: unknown hash scheme")
	}
	switch err := s.compare([]byte(h), s.prehash(password)); {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, fmt.Errorf("account: check password: %w", err)
	}
}

// needsRehash reports whether a stored hash is weaker than the configured
// cost.
func (s *Service) needsRehash(stored string) bool {
	cost, err := bcrypt.Cost([]byte(strings.TrimPrefix(stored, hashPrefix)))
	return err == nil && cost < s.opt.BcryptCost
}

// rehash upgrades a stored hash to the configured cost after a successful
// login. It only replaces the exact hash it checked, so a password changed
// meanwhile is never overwritten. Failure is not the person's problem:
// the login stands and the next one tries again.
func (s *Service) rehash(ctx context.Context, userID, old, password string) {
	h, err := s.hashPassword(password)
	if err == nil {
		_, err = s.d.W.NewUpdate().Table("users").Set("password_hash = ?", h).
			Where("id = ?", userID).Where("password_hash = ?", old).Exec(ctx)
	}
	if err != nil {
		s.opt.Logger.WarnContext(ctx, "account: re-hash password", "user_id", userID, "err", err)
	}
}

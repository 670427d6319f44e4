package keyring

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Master is the root key. It lives outside the database (environment or a
// 0600 file in the data directory) so that a database dump alone opens
// nothing (promise P-30). Every other key is either derived from it with
// HKDF for one purpose, or random and stored wrapped under a derived key.
type Master struct {
	key [32]byte
	id  uint32
}

// MasterKeyFile is the file name of a generated master key in the data dir.
const MasterKeyFile = "master.key"

// NewMaster wraps 32 bytes of key material.
func NewMaster(key []byte) (*Master, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("keyring: master key is %d bytes, want 32", len(key))
	}
	m := &Master{}
	copy(m.key[:], key)
	sum := sha256.Sum256(append([]byte("parley master key id\x00"), key...))
	m.id = binary.BigEndian.Uint32(sum[:4])
	return m, nil
}

// LoadMaster returns the configured key, or reads dataDir/master.key,
// creating it with mode 0600 from 32 random bytes when it does not exist.
// created reports a new key, which the caller should announce: losing that
// file makes every sealed value unreadable.
func LoadMaster(configured []byte, dataDir string) (m *Master, created bool, err error) {
	if len(configured) > 0 {
		m, err := NewMaster(configured)
		return m, false, err
	}
	path := filepath.Join(dataDir, MasterKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, false, fmt.Errorf("keyring: create data directory: %w", err)
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, false, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("keyring: create %s: %w", path, err)
		}
		if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
			f.Close()
			return nil, false, err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, false, err
		}
		if err := f.Close(); err != nil {
			return nil, false, err
		}
		m, err := NewMaster(key)
		return m, true, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("keyring: read %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("keyring: %s is readable by others (mode %v); run chmod 600 on it", path, fi.Mode().Perm())
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, false, fmt.Errorf("keyring: %s does not hold base64 of 32 bytes", path)
	}
	m, err = NewMaster(key)
	return m, false, err
}

// ID identifies the master key in wrapped keys, so that a later root
// rotation can tell which master wrapped what.
func (m *Master) ID() uint32 { return m.id }

// Derive returns a 32-byte key for one purpose, like "session-jwt/v1".
// Derived keys cannot be shredded (anyone with the master re-derives them),
// so they never protect data that must be erasable per tenant or person.
func (m *Master) Derive(purpose string) []byte {
	k, err := hkdf.Key(sha256.New, m.key[:], []byte("parley/v1"), purpose, 32)
	if err != nil {
		panic("keyring: hkdf: " + err.Error()) // only on an impossible length
	}
	return k
}

// Purposes of derived keys. Adding one is free; changing one breaks what it
// protected.
const (
	PurposeDEKWrap        = "dek-wrap/v1"        // wraps per-workspace keys
	PurposePlatformSeal   = "platform-seal/v1"   // seals platform-level secrets such as TOTP seeds
	PurposeSessionJWT     = "session-jwt/v1"     // HS256 key of session cookies
	PurposePasswordPepper = "password-pepper/v1" // HMAC pepper before bcrypt
	PurposeBlindIndex     = "blind-index/v1"     // searchable hashes of identifiers
	PurposeConfirmCode    = "confirm-code/v1"    // deletion confirmation codes
)

// SealPlatform seals a platform-level secret (one that belongs to a user,
// not a workspace, such as a TOTP seed) under a key derived from the master.
func (m *Master) SealPlatform(plaintext []byte, aad AAD) ([]byte, error) {
	return Seal(m.Derive(PurposePlatformSeal), m.id, plaintext, aad)
}

// OpenPlatform opens what SealPlatform sealed.
func (m *Master) OpenPlatform(env []byte, aad AAD) ([]byte, error) {
	return Open(func(id uint32) ([]byte, error) {
		if id != m.id {
			return nil, ErrUnknownKey
		}
		return m.Derive(PurposePlatformSeal), nil
	}, env, aad)
}

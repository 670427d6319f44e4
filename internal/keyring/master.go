package keyring

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
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

// NewMaster wraps 32 bytes of key material. It copies key, so the caller may
// clear its slice afterwards.
func NewMaster(key []byte) (*Master, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("keyring: master key is %d bytes, want 32", len(key))
	}
	m := &Master{}
	copy(m.key[:], key)
	// The ID is a hash of the key, not a secret and not reversible; it lets
	// an envelope say which master sealed it, so a misconfigured key is
	// reported as such (ErrUnknownKey) instead of as tampering.
	h := sha256.New()
	h.Write([]byte("parley master key id\x00"))
	h.Write(key)
	m.id = binary.BigEndian.Uint32(h.Sum(nil)[:4])
	return m, nil
}

// LoadMaster returns the configured key (PARLEY_MASTER_KEY, already decoded
// by config), or reads dataDir/master.key, creating it with mode 0600 from
// 32 random bytes when it does not exist. created reports a new key, which
// the caller should announce: losing that file makes every sealed value
// unreadable.
//
// An existing file must be a regular file that neither group nor others can
// access, holding the standard base64 of exactly 32 bytes.
func LoadMaster(configured []byte, dataDir string) (m *Master, created bool, err error) {
	if len(configured) > 0 {
		m, err := NewMaster(configured)
		return m, false, err
	}
	path := filepath.Join(dataDir, MasterKeyFile)
	m, err = readMasterFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return m, false, err
	}
	m, err = createMasterFile(dataDir, path)
	if errors.Is(err, fs.ErrExist) {
		// Another process starting on the same data directory won the race;
		// its file is complete (see createMasterFile), so use it.
		m, err = readMasterFile(path)
		return m, false, err
	}
	return m, err == nil, err
}

// readMasterFile loads an existing key file. It returns an error wrapping
// fs.ErrNotExist when there is none.
func readMasterFile(path string) (*Master, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: read master key: %w", err)
	}
	defer f.Close()
	// Stat the opened file, not the path, so the checked file is the one read.
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyring: read master key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keyring: master key %s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("keyring: master key %s is accessible to others (mode %v); run chmod 600 on it", path, fi.Mode().Perm())
	}
	// A key file is 45 bytes; anything much larger is not one.
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("keyring: read master key: %w", err)
	}
	defer clear(b)
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	defer clear(key)
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("keyring: master key %s does not hold the base64 of 32 bytes", path)
	}
	return NewMaster(key)
}

// createMasterFile writes a new random key to path. The key is written and
// synced under a temporary name and then hard-linked into place, so path
// either does not exist or holds a complete key, even if the process dies
// half-way or two processes start at once (the loser gets fs.ErrExist).
func createMasterFile(dataDir, path string) (*Master, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("keyring: create data directory: %w", err)
	}
	key := make([]byte, 32)
	defer clear(key)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("keyring: generate master key: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, ".master.key-*")
	if err != nil {
		return nil, fmt.Errorf("keyring: create master key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := writeKeyFile(tmp, key); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		// Some file systems have no hard links: fall back to an exclusive
		// create, which still never overwrites a key.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			if errors.Is(err, fs.ErrExist) {
				return nil, err
			}
			return nil, fmt.Errorf("keyring: create master key: %w", err)
		}
		if err := writeKeyFile(f, key); err != nil {
			os.Remove(path)
			return nil, err
		}
	}
	// Sync the directory so the new name survives a crash.
	if d, err := os.Open(dataDir); err == nil {
		d.Sync()
		d.Close()
	}
	return NewMaster(key)
}

// writeKeyFile writes key as base64 to f with mode 0600, syncs and closes it.
func writeKeyFile(f *os.File, key []byte) error {
	err := f.Chmod(0o600) // independent of how f was created and of the umask
	if err == nil {
		_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("keyring: write master key: %w", err)
	}
	return nil
}

// ID identifies the master key in wrapped keys, so that a later root
// rotation can tell which master wrapped what.
func (m *Master) ID() uint32 { return m.id }

// Derive returns a 32-byte key for one purpose, like "session-jwt/v1".
// Derived keys cannot be shredded (anyone with the master re-derives them),
// so they never protect data that must be erasable per tenant or person.
// The caller owns the returned slice and may clear it after use.
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
// Such secrets cannot be shredded by destroying a key; they are erased by
// deleting their row.
func (m *Master) SealPlatform(plaintext []byte, aad AAD) ([]byte, error) {
	k := m.Derive(PurposePlatformSeal)
	defer clear(k)
	return Seal(k, m.id, plaintext, aad)
}

// OpenPlatform opens what SealPlatform sealed. An envelope sealed under
// another master key fails with ErrUnknownKey.
func (m *Master) OpenPlatform(env []byte, aad AAD) ([]byte, error) {
	k := m.Derive(PurposePlatformSeal)
	defer clear(k)
	return Open(func(id uint32) ([]byte, error) {
		if id != m.id {
			return nil, ErrUnknownKey
		}
		return k, nil
	}, env, aad)
}

package keyring

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// Defaults of Options.
const (
	DefaultCacheTTL  = time.Minute
	DefaultCacheSize = 4096
)

// Options tune a Keyring. The zero value is fine.
type Options struct {
	// Now is the clock for created_at and cache expiry (default time.Now).
	Now func() time.Time
	// CacheTTL bounds how long an unwrapped key is kept in memory, and so how
	// long another replica's destroy can go unnoticed here (default one
	// minute). Negative disables the cache.
	CacheTTL time.Duration
	// CacheSize caps the number of cached keys (default 4096, about 0.5 MB).
	CacheSize int
}

// Keyring seals and opens values under per-workspace and per-contact keys,
// creating, rotating and destroying those keys in the workspace_keys and
// contact_keys tables. It is safe for concurrent use; create one per process.
type Keyring struct {
	d        *db.DB
	master   *Master
	now      func() time.Time
	wrapKey  []byte // master.Derive(PurposeDEKWrap), held for the Keyring's life
	blindKey []byte // master.Derive(PurposeBlindIndex)
	cache    *keyCache
	st       *db.Statements
}

// New returns a Keyring over d whose workspace keys are wrapped under m.
func New(d *db.DB, m *Master, opt Options) *Keyring {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.CacheTTL == 0 {
		opt.CacheTTL = DefaultCacheTTL
	}
	if opt.CacheSize <= 0 {
		opt.CacheSize = DefaultCacheSize
	}
	return &Keyring{
		d:        d,
		master:   m,
		now:      opt.Now,
		wrapKey:  m.Derive(PurposeDEKWrap),
		blindKey: m.Derive(PurposeBlindIndex),
		cache:    newKeyCache(opt.Now, opt.CacheTTL, opt.CacheSize),
		st:       db.NewStatements(d, "keyring"),
	}
}

// Prepare prepares the statements that read and create contact keys, run
// for nearly every message (db.Statements). Call it once at start, outside
// any transaction; until then they run through bun, only slower.
func (k *Keyring) Prepare(ctx context.Context) error {
	return k.st.Prepare(ctx, []string{sqlReadContactKey, sqlInsertContactKey}, []string{sqlReadContactKey})
}

// Labels in the associated data of wrapped keys (security.md §2.3). Values
// sealed through the Keyring may not use them as their table, so no caller
// can make a value that unwraps as a key.
const (
	labelWorkspaceDEK = "ws-dek"
	labelContactDEK   = "contact-dek"
)

// BlindIndex returns a searchable stand-in for an identifier such as a PSID
// or a phone number: HMAC-SHA256 under the master's blind-index key over the
// workspace ID and the value, in unpadded base64url (43 characters). Equal
// inputs give equal outputs, so a store can look a person up by it without
// keeping the identifier in clear; the same identifier in two workspaces
// gives unrelated outputs.
//
// The caller normalises value first (E.164 phones, trimmed IDs). A blind
// index is derived from the master and cannot be shredded: it is erased by
// deleting its row, and anyone holding the master can test guesses against
// it, which is why it is only for identifiers, never for content.
func (k *Keyring) BlindIndex(workspaceID, value string) string {
	mac := hmac.New(sha256.New, k.blindKey)
	// Length-prefix the workspace so ("ab","c") and ("a","bc") differ.
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(workspaceID)))
	mac.Write(n[:])
	mac.Write([]byte(workspaceID))
	mac.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// checkAAD refuses associated data that cannot name a workspace value.
func checkAAD(aad AAD) error {
	if aad.Workspace == "" {
		return errors.New("associated data names no workspace")
	}
	if aad.Table == labelWorkspaceDEK || aad.Table == labelContactDEK {
		return fmt.Errorf("table %q is reserved for wrapped keys", aad.Table)
	}
	return nil
}

// newKeyID returns a random non-zero key ID; zero is never a key, so it can
// mean "none".
func newKeyID() uint32 {
	var b [4]byte
	for {
		rand.Read(b[:])
		if id := binary.BigEndian.Uint32(b[:]); id != 0 {
			return id
		}
	}
}

// newKey returns 32 random bytes.
func newKey() []byte {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return b
}

func keyIDString(id uint32) string { return strconv.FormatUint(uint64(id), 10) }

// handles returns where to read and write keys: the caller's transaction,
// or the Keyring's own pools. Keys read through a caller's transaction are
// not cached, since that transaction may yet roll back.
func (k *Keyring) handles(idb bun.IDB) (r, w bun.IDB, cache bool) {
	if idb != nil {
		return idb, idb, false
	}
	return k.d.R, k.d.W, true
}

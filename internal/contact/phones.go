package contact

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/keyring"
)

// The phone blind index (table contact_phones, migration 00023): one row
// per value of a phone-type field, holding PhoneDigest of the number
// rather than the number, so that a call (package calllog) or a search
// finds the contact without phone numbers ever being stored in clear. The
// value itself stays sealed under the contact's key; the index row is
// written and deleted with it, in the same transaction, by SetField and
// ClearField, and deleting the contact or the field deletes it.

// phoneIndexLabel separates phone digests from other blind indexes of the
// same workspace (PSIDs, call keys), so equal strings of two kinds never
// give the same digest.
const phoneIndexLabel = "phone:"

// NormalizePhone checks raw as a phone number and returns it in E.164
// ("+85512345678"), exactly as a phone field stores it: digits of any
// script, read in region (ISO 3166-1 alpha-2, such as "KH") when it has no
// country code, "" to accept only international numbers. A number that is
// not valid gets a *validate.Error naming the field "phone" whose message
// does not repeat the number.
func NormalizePhone(raw, region string) (string, error) {
	return Field{Key: "phone", Type: FieldPhone}.Parse(raw, region)
}

// PhoneDigest is the blind index of an E.164 number in a workspace: the
// 32-byte HMAC-SHA256 under the master's blind-index key over the workspace
// ID and the number (keyring.BlindIndex). Equal numbers give equal digests
// in one workspace and unrelated ones across workspaces.
func PhoneDigest(kr *keyring.Keyring, workspaceID, e164 string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(kr.BlindIndex(workspaceID, phoneIndexLabel+e164))
	if err != nil { // BlindIndex always encodes this way
		panic("contact: phone digest: " + err.Error())
	}
	return b
}

// indexPhone records that the contact's phone field holds e164, replacing
// what the field held before, through idb (the transaction that sets the
// value).
func (s *Store) indexPhone(ctx context.Context, idb bun.IDB, workspaceID, contactID, fieldID, e164 string) error {
	_, err := idb.NewRaw(`INSERT INTO contact_phones (workspace_id, contact_id, field_id, digest) VALUES (?, ?, ?, ?)
		ON CONFLICT (contact_id, field_id) DO UPDATE SET digest = excluded.digest`,
		workspaceID, contactID, fieldID, PhoneDigest(s.kr, workspaceID, e164)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("index phone: %w", err)
	}
	return nil
}

// unindexPhone removes the index row of the contact's phone field through
// idb (the transaction that clears the value).
func (s *Store) unindexPhone(ctx context.Context, idb bun.IDB, workspaceID, contactID, fieldID string) error {
	_, err := idb.NewRaw(`DELETE FROM contact_phones WHERE workspace_id = ? AND contact_id = ? AND field_id = ?`,
		workspaceID, contactID, fieldID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("unindex phone: %w", err)
	}
	return nil
}

// ErrNotE164 is returned by ByPhone for a number that is not in the E.164
// form NormalizePhone gives; the caller normalizes first.
var ErrNotE164 = errors.New("contact: by phone: number is not in E.164 form")

// ByPhone returns the IDs of the workspace's contacts having e164 in any
// phone field that is not archived (archived values are hidden), in ID
// order, through idb (nil: the reader pool). Another workspace's contacts
// with the same number are never returned: the digest itself is bound to
// the workspace, and the query names it too. The error never repeats the
// number.
func (s *Store) ByPhone(ctx context.Context, idb bun.IDB, workspaceID, e164 string) ([]string, error) {
	if n, err := NormalizePhone(e164, ""); err != nil || n != e164 {
		return nil, ErrNotE164
	}
	if idb == nil {
		idb = s.d.R
	}
	ids := []string{}
	err := idb.NewRaw(`SELECT DISTINCT p.contact_id FROM contact_phones p
		JOIN contact_fields f ON f.workspace_id = p.workspace_id AND f.id = p.field_id
		WHERE p.workspace_id = ? AND p.digest = ? AND f.archived_at IS NULL
		ORDER BY p.contact_id`, workspaceID, PhoneDigest(s.kr, workspaceID, e164)).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("contact: by phone: %w", err)
	}
	return ids, nil
}

// reindexBatch is how many values ReindexPhones opens per transaction.
const reindexBatch = 200

type unindexedRow struct {
	WorkspaceID string `bun:"workspace_id"`
	ContactID   string `bun:"contact_id"`
	FieldID     string `bun:"field_id"`
	Value       []byte `bun:"value"`
}

// ReindexPhones writes the missing index rows of phone values stored
// before the index existed (migration 00023 cannot: the values are
// sealed), across all workspaces, in batches of their own transactions,
// and returns how many it wrote. Run it once after upgrading past
// migration 00023 (at start is fine: with nothing missing it is one query,
// but a pass over the keys of all phone values, so a command run once is
// the better home on a large database). Values of contacts whose key
// was destroyed (erased a moment ago) are skipped.
func (s *Store) ReindexPhones(ctx context.Context) (int, error) {
	total := 0
	afterContact, afterField := "", ""
	for {
		var rows []unindexedRow
		err := s.d.R.NewRaw(`SELECT v.workspace_id, v.contact_id, v.field_id, v.value
			FROM contact_field_values v
			JOIN contact_fields f ON f.workspace_id = v.workspace_id AND f.id = v.field_id
			WHERE f.type = 'phone' AND (v.contact_id > ? OR (v.contact_id = ? AND v.field_id > ?))
			AND NOT EXISTS (SELECT 1 FROM contact_phones p WHERE p.contact_id = v.contact_id AND p.field_id = v.field_id)
			ORDER BY v.contact_id, v.field_id LIMIT ?`,
			afterContact, afterContact, afterField, reindexBatch).Scan(ctx, &rows)
		if err != nil {
			return total, fmt.Errorf("contact: reindex phones: %w", err)
		}
		if len(rows) == 0 {
			return total, nil
		}
		n := 0
		err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			n = 0
			for _, r := range rows {
				pt, err := s.kr.OpenContactTx(ctx, tx, valueAAD(r.WorkspaceID, r.ContactID, r.FieldID), r.ContactID, r.Value)
				if errors.Is(err, keyring.ErrKeyDestroyed) {
					continue
				}
				if err != nil {
					return err
				}
				// DO NOTHING: a value set since the SELECT indexed itself.
				res, err := tx.NewRaw(`INSERT INTO contact_phones (workspace_id, contact_id, field_id, digest)
					SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM contact_field_values WHERE contact_id = ? AND field_id = ?)
					ON CONFLICT (contact_id, field_id) DO NOTHING`,
					r.WorkspaceID, r.ContactID, r.FieldID, PhoneDigest(s.kr, r.WorkspaceID, string(pt)), r.ContactID, r.FieldID).Exec(ctx)
				if err != nil {
					return err
				}
				if k, err := res.RowsAffected(); err == nil {
					n += int(k)
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("contact: reindex phones: %w", err)
		}
		total += n
		last := rows[len(rows)-1]
		afterContact, afterField = last.ContactID, last.FieldID
	}
}

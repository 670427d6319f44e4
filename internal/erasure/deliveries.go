package erasure

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/keyring"
)

// deliveryAAD is how package webhook binds a stored delivery body to its
// row (webhook.bodyAAD): sealed with the platform key, since a delivery
// is stored before anyone knows whose it is. A test seals through the
// real intake to keep the two in step.
func deliveryAAD(id string) keyring.AAD {
	return keyring.AAD{Table: "webhook_deliveries", Column: "body", Row: id}
}

// scrubDeliveries removes the contact's events from the raw webhook
// deliveries still stored (pending, not yet applied, or quarantined):
// they are sealed under the platform key, which erasure cannot destroy,
// and a pending one applied after the erasure would bring the person's
// message back as a new contact. A delivery can batch several people's
// events, so only the events naming one of the contact's platform IDs go:
// the delivery is re-sealed without them, or deleted when nothing else is
// left in it (or it is not the JSON Meta sends). Bodies that do not open
// (another master key) are left alone: nothing here can read them either.
//
// A processor may hold a pending delivery in memory, read before this
// transaction (package webhook keeps a backlog of bodies in clear). It
// applies only what it can claim by ID, so a scrubbed delivery is stored
// again under a new ID (same arrival millisecond, so the same place in
// the order): the copy in memory claims nothing and is dropped, and the
// scrubbed body is applied from the table, by the processor's periodic
// catch-up. A deleted one is claimed by nobody.
func (s *Service) scrubDeliveries(ctx context.Context, tx bun.Tx, platformIDs []string) error {
	if len(platformIDs) == 0 {
		return nil
	}
	needles := make([][]byte, 0, len(platformIDs))
	for _, p := range platformIDs {
		q, _ := json.Marshal(p) // a JSON string value, quotes included
		needles = append(needles, q)
	}
	var rows []struct {
		ID   string `bun:"id"`
		Body []byte `bun:"body"`
	}
	if err := tx.NewRaw(`SELECT id, body FROM webhook_deliveries ORDER BY id`).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("webhook deliveries: %w", err)
	}
	for _, r := range rows {
		raw, err := s.master.OpenPlatform(r.Body, deliveryAAD(r.ID))
		if err != nil || !containsAny(raw, needles) {
			continue
		}
		kept, ok := withoutEvents(raw, needles)
		if !ok {
			if _, err := tx.NewRaw(`DELETE FROM webhook_deliveries WHERE id = ?`, r.ID).Exec(ctx); err != nil {
				return fmt.Errorf("webhook deliveries: %w", err)
			}
			continue
		}
		id, err := sameMillisecond(r.ID)
		if err != nil {
			return fmt.Errorf("webhook deliveries: %w", err)
		}
		sealed, err := s.master.SealPlatform(kept, deliveryAAD(id))
		if err != nil {
			return fmt.Errorf("webhook deliveries: %w", err)
		}
		if _, err := tx.NewRaw(`UPDATE webhook_deliveries SET id = ?, body = ? WHERE id = ?`, id, sealed, r.ID).Exec(ctx); err != nil {
			return fmt.Errorf("webhook deliveries: %w", err)
		}
	}
	return nil
}

// sameMillisecond returns a new UUIDv7 with id's timestamp: it sorts
// among the deliveries of that millisecond, and matches no copy of id.
func sameMillisecond(id string) (string, error) {
	old, err := uuid.Parse(id)
	if err != nil || old.Version() != 7 {
		// Not the intake's kind of ID: any new one will do.
		u, err := uuid.NewV7()
		return u.String(), err
	}
	u, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	copy(u[:6], old[:6]) // the 48-bit Unix millisecond
	return u.String(), nil
}

// containsAny reports whether b contains one of needles.
func containsAny(b []byte, needles [][]byte) bool {
	for _, n := range needles {
		if bytes.Contains(b, n) {
			return true
		}
	}
	return false
}

// withoutEvents returns a Meta delivery ({"object":…,"entry":[{…,
// "messaging":[…], "standby":[…], "changes":[…]}]}) without the events
// that contain one of needles, and false when nothing else would be left
// or the body is not shaped so (the caller then deletes it whole).
func withoutEvents(raw []byte, needles [][]byte) ([]byte, bool) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, false
	}
	entries, ok := doc["entry"].([]any)
	if !ok {
		return nil, false
	}
	left := 0
	var keptEntries []any
	for _, e := range entries {
		entry, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		events := 0
		for k, v := range entry {
			list, ok := v.([]any)
			if !ok {
				continue
			}
			var kept []any
			for _, ev := range list {
				b, err := json.Marshal(ev)
				if err != nil {
					return nil, false
				}
				if !containsAny(b, needles) {
					kept = append(kept, ev)
				}
			}
			entry[k] = kept
			events += len(kept)
		}
		if events > 0 {
			keptEntries = append(keptEntries, entry)
			left += events
		}
	}
	if left == 0 {
		return nil, false
	}
	doc["entry"] = keptEntries
	out, err := json.Marshal(doc)
	if err != nil || containsAny(out, needles) {
		// Named outside an event too: the whole delivery goes.
		return nil, false
	}
	return out, true
}

package media_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/media"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

type env struct {
	d        *db.DB
	kr       *keyring.Keyring
	store    *media.Store
	disk     *media.Disk
	dir      string
	contacts *contact.Store
	channels *channel.Store
	now      time.Time
}

func setup(t *testing.T, d *db.DB, opt media.Options) *env {
	t.Helper()
	e := &env{d: d, now: fixture.Epoch, dir: t.TempDir()}
	clock := func() time.Time { return e.now }
	e.kr, _ = fixture.Keyring(t, d, clock)
	disk, err := media.OpenDisk(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { disk.Close() })
	e.disk = disk
	opt.Now = clock
	if opt.URLKey == nil {
		opt.URLKey = bytes.Repeat([]byte{7}, 32)
	}
	e.store = media.New(d, e.kr, disk, opt)
	e.contacts = contact.NewStore(d, e.kr, clock)
	e.channels = channel.NewStore(d, e.kr, clock)
	return e
}

func (e *env) workspace(t *testing.T) string { return fixture.Workspace(t, e.d, e.kr) }

// conv is a conversation made for a test, with its contact.
type conv struct{ ws, id, contactID string }

// conversation connects a page to ws, has a person write to it, and
// inserts their conversation the way package inbox does.
func (e *env) conversation(t *testing.T, ws string) conv {
	t.Helper()
	ctx := context.Background()
	ch := fixture.Messenger(t, e.channels, ws, "page-"+uuid.NewString()[:8], "token")
	var c conv
	err := e.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		ct, _, err := e.contacts.Upsert(ctx, tx, ch, "psid-"+uuid.NewString()[:8])
		if err != nil {
			return err
		}
		c = conv{ws: ws, id: uuid.Must(uuid.NewV7()).String(), contactID: ct.ID}
		_, err = tx.NewRaw(`INSERT INTO conversations (id, workspace_id, channel_id, contact_id, last_activity_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, c.id, ws, ch.ID, ct.ID, e.now, e.now, e.now).Exec(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// files lists every file under the store's directory with its bytes.
func (e *env) files(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(e.dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) count(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.d.R.NewRaw(`SELECT COUNT(*) FROM media_objects`).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// pngImage is a real w×h PNG whose pixels spell out canary, so the
// plaintext holds the canary's bytes.
func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 31)
	}
	img.Set(0, 0, color.NRGBA{1, 2, 3, 255})
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pixelFlood is a tiny PNG whose header claims w×h pixels (security.md
// J-11), with a valid header checksum so only the size check refuses it.
func pixelFlood(t *testing.T, w, h uint32) []byte {
	t.Helper()
	b := pngImage(t, 1, 1)
	// IHDR: 8-byte signature, 4-byte length, "IHDR", width, height.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	crc := crc32.ChecksumIEEE(b[12:29])
	binary.BigEndian.PutUint32(b[29:], crc)
	return b
}

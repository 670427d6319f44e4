package keyring_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/keyring"
)

func TestLoadMasterGeneratesThenReloads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet
	m1, created, err := keyring.LoadMaster(nil, dir)
	if err != nil || !created {
		t.Fatalf("first load: created=%v err=%v", created, err)
	}
	path := filepath.Join(dir, keyring.MasterKeyFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 || !bytes.Equal(key, m1.MasterKeyForTest()) {
		t.Fatalf("file holds %q (%v), not the key in use", b, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only %s (no temporary files left)", len(entries), keyring.MasterKeyFile)
	}

	m2, created, err := keyring.LoadMaster(nil, dir)
	if err != nil || created {
		t.Fatalf("reload: created=%v err=%v", created, err)
	}
	if m2.ID() != m1.ID() || !bytes.Equal(m2.Derive(keyring.PurposeDEKWrap), m1.Derive(keyring.PurposeDEKWrap)) {
		t.Fatal("reloaded key differs from the generated one")
	}
}

// Replicas starting together on one data directory end with one key.
func TestLoadMasterConcurrentFirstStart(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	ids := make([]uint32, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			var m *keyring.Master
			m, created[i], errs[i] = keyring.LoadMaster(nil, dir)
			if m != nil {
				ids[i] = m.ID()
			}
		})
	}
	close(start)
	wg.Wait()
	nCreated := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("load %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("load %d got key %08x, load 0 got %08x", i, ids[i], ids[0])
		}
		if created[i] {
			nCreated++
		}
	}
	if nCreated != 1 {
		t.Errorf("%d loads report creating the key, want 1", nCreated)
	}
}

func TestLoadMasterRefusesBadFiles(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)) + "\n"
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{"group readable", good, 0o640, "chmod 600"},
		{"world readable", good, 0o604, "chmod 600"},
		{"group writable", good, 0o620, "chmod 600"},
		{"not base64", "this is not base64!\n", 0o600, "base64 of 32 bytes"},
		{"16 bytes", base64.StdEncoding.EncodeToString(make([]byte, 16)), 0o600, "base64 of 32 bytes"},
		{"33 bytes", base64.StdEncoding.EncodeToString(make([]byte, 33)), 0o600, "base64 of 32 bytes"},
		{"empty", "", 0o600, "base64 of 32 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, keyring.MasterKeyFile)
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			m, _, err := keyring.LoadMaster(nil, dir)
			if err == nil || m != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadMaster = %v, %v; want an error mentioning %q", m, err, tt.want)
			}
			// A bad file is never replaced: that would orphan every sealed value.
			if b, _ := os.ReadFile(path); string(b) != tt.content {
				t.Errorf("file changed to %q", b)
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, keyring.MasterKeyFile), 0o700); err != nil {
			t.Fatal(err)
		}
		if _, _, err := keyring.LoadMaster(nil, dir); err == nil || !strings.Contains(err.Error(), "regular file") {
			t.Fatalf("err = %v", err)
		}
	})
}

// PARLEY_MASTER_KEY, as decoded by config, is used as is and no file is made.
func TestLoadMasterFromEnvironment(t *testing.T) {
	raw := bytes.Repeat([]byte{0x5a}, 32)
	env := map[string]string{"PARLEY_MASTER_KEY": base64.StdEncoding.EncodeToString(raw)}
	cfg, err := config.Load(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m, created, err := keyring.LoadMaster(cfg.MasterKey, dir)
	if err != nil || created {
		t.Fatalf("created=%v err=%v", created, err)
	}
	if !bytes.Equal(m.MasterKeyForTest(), raw) {
		t.Error("master is not the configured key")
	}
	if _, err := os.Stat(filepath.Join(dir, keyring.MasterKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key file was written although a key was configured: %v", err)
	}
	if _, _, err := keyring.LoadMaster(raw[:31], dir); err == nil {
		t.Error("a 31-byte configured key was accepted")
	}
}

func TestMasterDeriveAndPlatformSeal(t *testing.T) {
	m1, _ := keyring.NewMaster(bytes.Repeat([]byte{1}, 32))
	m2, _ := keyring.NewMaster(bytes.Repeat([]byte{2}, 32))
	if m1.ID() == m2.ID() {
		t.Fatal("two masters share an ID")
	}
	purposes := []string{keyring.PurposeDEKWrap, keyring.PurposePlatformSeal, keyring.PurposeSessionJWT,
		keyring.PurposePasswordPepper, keyring.PurposeBlindIndex, keyring.PurposeConfirmCode}
	seen := map[string]string{}
	for _, p := range purposes {
		k := string(m1.Derive(p))
		if len(k) != 32 || k == string(m2.Derive(p)) {
			t.Fatalf("%s: derived key wrong length or equal across masters", p)
		}
		if other, dup := seen[k]; dup {
			t.Fatalf("%s and %s derive the same key", p, other)
		}
		seen[k] = p
	}

	aad := keyring.AAD{Table: "users", Column: "totp_secret", Row: "u1"}
	env, err := m1.SealPlatform([]byte("JBSWY3DPEHPK3PXP"), aad)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m1.OpenPlatform(env, aad); err != nil || string(got) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("OpenPlatform = %q, %v", got, err)
	}
	if _, err := m2.OpenPlatform(env, aad); !errors.Is(err, keyring.ErrUnknownKey) {
		t.Errorf("other master: err = %v, want ErrUnknownKey", err)
	}
	impostor := keyring.MasterWithIDForTest(bytes.Repeat([]byte{2}, 32), m1.ID())
	if _, err := impostor.OpenPlatform(env, aad); !errors.Is(err, keyring.ErrDecrypt) {
		t.Errorf("wrong key with the right ID: err = %v, want ErrDecrypt", err)
	}
	if _, err := m1.OpenPlatform(env, keyring.AAD{Table: "users", Column: "totp_secret", Row: "u2"}); !errors.Is(err, keyring.ErrDecrypt) {
		t.Errorf("other row: err = %v, want ErrDecrypt", err)
	}
}

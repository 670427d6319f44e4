package keyring_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/parleyhq/parley/internal/keyring"
)

var (
	testKey   = bytes.Repeat([]byte{0x42}, 32)
	testAAD   = keyring.AAD{Workspace: "ws1", Table: "channels", Column: "token", Row: "row1"}
	testKeyID = uint32(0xA1B2C3D4)
)

// lookupOne returns a key lookup that knows exactly one key.
func lookupOne(id uint32, key []byte) func(uint32) ([]byte, error) {
	return func(got uint32) ([]byte, error) {
		if got != id {
			return nil, keyring.ErrUnknownKey
		}
		return key, nil
	}
}

// The layout is the documented one (security.md §2.2), checked with the
// standard library alone so a change to the format cannot go unnoticed.
func TestEnvelopeLayout(t *testing.T) {
	pt := []byte("page token")
	env, err := keyring.Seal(testKey, testKeyID, pt, testAAD)
	if err != nil {
		t.Fatal(err)
	}
	if len(env) != len(pt)+keyring.Overhead || keyring.Overhead != 34 {
		t.Fatalf("len = %d, overhead %d", len(env), keyring.Overhead)
	}
	if env[0] != 0x01 || env[1] != 0x01 || binary.BigEndian.Uint32(env[2:6]) != testKeyID {
		t.Fatalf("header = % x", env[:6])
	}
	ad := append([]byte(nil), env[:6]...)
	for _, f := range []string{"ws1", "channels", "token", "row1"} {
		ad = binary.BigEndian.AppendUint32(ad, uint32(len(f)))
		ad = append(ad, f...)
	}
	block, _ := aes.NewCipher(testKey)
	gcm, _ := cipher.NewGCM(block)
	got, err := gcm.Open(nil, env[6:18], env[18:], ad)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("stdlib open = %q, %v", got, err)
	}
	h, err := keyring.ParseHeader(env)
	if err != nil || h != (keyring.Header{Version: 1, Alg: 1, KeyID: testKeyID}) {
		t.Fatalf("ParseHeader = %+v, %v", h, err)
	}
}

func TestSealOpenEnvelope(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 17, 4096} {
		pt := bytes.Repeat([]byte{'x'}, n)
		env, err := keyring.Seal(testKey, testKeyID, pt, testAAD)
		if err != nil {
			t.Fatal(err)
		}
		got, err := keyring.Open(lookupOne(testKeyID, testKey), env, testAAD)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("%d bytes: got %d bytes, %v", n, len(got), err)
		}
	}
	a, _ := keyring.Seal(testKey, testKeyID, []byte("same"), testAAD)
	b, _ := keyring.Seal(testKey, testKeyID, []byte("same"), testAAD)
	if bytes.Equal(a, b) {
		t.Error("two seals of the same value are equal: nonce not random")
	}
}

// Length prefixes keep AAD fields from being shifted into one another.
func TestAADFieldsDoNotShift(t *testing.T) {
	base := keyring.AAD{Workspace: "ab", Table: "c", Column: "d", Row: "e"}
	env, err := keyring.Seal(testKey, testKeyID, []byte("v"), base)
	if err != nil {
		t.Fatal(err)
	}
	for _, other := range []keyring.AAD{
		{Workspace: "a", Table: "bc", Column: "d", Row: "e"},
		{Workspace: "ab", Table: "", Column: "cd", Row: "e"},
		{Workspace: "ab", Table: "c", Column: "", Row: "de"},
		{Workspace: "abcde"},
	} {
		if _, err := keyring.Open(lookupOne(testKeyID, testKey), env, other); !errors.Is(err, keyring.ErrDecrypt) {
			t.Errorf("%+v: err = %v, want ErrDecrypt", other, err)
		}
	}
}

func TestOpenEnvelopeErrors(t *testing.T) {
	env, err := keyring.Seal(testKey, testKeyID, []byte("secret"), testAAD)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey := bytes.Repeat([]byte{0x43}, 32)
	tests := []struct {
		name   string
		env    []byte
		lookup func(uint32) ([]byte, error)
		want   error
	}{
		{"empty", nil, lookupOne(testKeyID, testKey), keyring.ErrMalformed},
		{"shorter than overhead", env[:keyring.Overhead-1], lookupOne(testKeyID, testKey), keyring.ErrMalformed},
		{"tag cut", env[:len(env)-1], lookupOne(testKeyID, testKey), keyring.ErrDecrypt},
		{"wrong key same id", env, lookupOne(testKeyID, wrongKey), keyring.ErrDecrypt},
		{"unknown key id", env, lookupOne(testKeyID+1, testKey), keyring.ErrUnknownKey},
		{"lookup error passes through", env, func(uint32) ([]byte, error) { return nil, keyring.ErrKeyDestroyed }, keyring.ErrKeyDestroyed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := keyring.Open(tt.lookup, tt.env, testAAD); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// Every single-bit change anywhere fails: the version and algorithm bytes
	// as malformed, everything else (key ID included) as ErrDecrypt.
	for i := range env {
		bad := append([]byte(nil), env...)
		bad[i] ^= 0x01
		lookup := func(uint32) ([]byte, error) { return testKey, nil } // any key ID gets the key
		_, err := keyring.Open(lookup, bad, testAAD)
		want := keyring.ErrDecrypt
		if i < 2 {
			want = keyring.ErrMalformed
		}
		if !errors.Is(err, want) {
			t.Errorf("bit flipped in byte %d: err = %v, want %v", i, err, want)
		}
	}
	if _, err := keyring.Seal(testKey[:16], 1, nil, testAAD); err == nil {
		t.Error("Seal with a 16-byte key succeeded")
	}
}

func TestParseHeaderRejects(t *testing.T) {
	good, _ := keyring.Seal(testKey, 7, nil, testAAD)
	for name, env := range map[string][]byte{
		"short":       good[:keyring.Overhead-1],
		"version 2":   append([]byte{2}, good[1:]...),
		"algorithm 9": append([]byte{1, 9}, good[2:]...),
	} {
		if _, err := keyring.ParseHeader(env); !errors.Is(err, keyring.ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

// fuzzSeeds are reproducible envelopes (fixed nonces), so every fuzzing
// worker process agrees on which inputs are authentic.
func fuzzSeeds(t testing.TB) [][]byte {
	var out [][]byte
	for i, pt := range [][]byte{nil, []byte("hello"), bytes.Repeat([]byte("0123456789"), 20)} {
		env, err := keyring.SealWithNonceForTest(testKey, testKeyID, uint64(i+1), pt, testAAD)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, env)
	}
	return out
}

// FuzzOpen feeds arbitrary bytes to Open: it must never panic, and nothing
// but an envelope Seal produced under the key may open.
func FuzzOpen(f *testing.F) {
	seeds := fuzzSeeds(f)
	for _, s := range seeds {
		f.Add(s)
		f.Add(s[:len(s)-1])
	}
	f.Add([]byte{})
	f.Add([]byte{1, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, env []byte) {
		pt, err := keyring.Open(lookupOne(testKeyID, testKey), env, testAAD)
		if err != nil {
			if pt != nil {
				t.Fatal("plaintext returned with an error")
			}
			if !errors.Is(err, keyring.ErrMalformed) && !errors.Is(err, keyring.ErrDecrypt) && !errors.Is(err, keyring.ErrUnknownKey) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		for _, s := range seeds {
			if bytes.Equal(env, s) {
				return
			}
		}
		t.Fatalf("forged envelope opened: % x", env)
	})
}

// FuzzParseHeader: never panics, and accepts only what Open may try.
func FuzzParseHeader(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte{})
	f.Add(make([]byte, keyring.Overhead))
	f.Fuzz(func(t *testing.T, env []byte) {
		h, err := keyring.ParseHeader(env)
		if err != nil {
			if !errors.Is(err, keyring.ErrMalformed) || h != (keyring.Header{}) {
				t.Fatalf("ParseHeader = %+v, %v", h, err)
			}
			return
		}
		if len(env) < keyring.Overhead || h.Version != keyring.Version1 || h.Alg != keyring.AlgAES256GCM || h.KeyID != binary.BigEndian.Uint32(env[2:6]) {
			t.Fatalf("accepted %+v from % x", h, env)
		}
	})
}

package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// Envelope layout (security.md §2.2), fixed and versioned:
//
//	byte 0      format version (0x01)
//	byte 1      algorithm (0x01 = AES-256-GCM, random 96-bit nonce)
//	bytes 2-5   key ID (uint32, big-endian) of the key that sealed it
//	bytes 6-17  nonce
//	bytes 18-   ciphertext ‖ 16-byte GCM tag
const (
	Version1     byte = 0x01
	AlgAES256GCM byte = 0x01

	headerLen = 6
	nonceLen  = 12
	tagLen    = 16
	// Overhead is how many bytes sealing adds to a plaintext.
	Overhead = headerLen + nonceLen + tagLen
)

// Errors from opening an envelope. ErrDecrypt covers every authentication
// failure (wrong key, tampering, a value moved to another row) without
// saying which, so it cannot serve as an oracle.
var (
	ErrMalformed    = errors.New("keyring: malformed envelope")
	ErrDecrypt      = errors.New("keyring: envelope does not open")
	ErrKeyDestroyed = errors.New("keyring: key destroyed")
	ErrUnknownKey   = errors.New("keyring: unknown key")
)

// AAD binds a sealed value to where it lives, so a ciphertext copied to
// another workspace, table, column or row fails to open.
type AAD struct {
	Workspace, Table, Column, Row string
}

// bytes encodes the AAD with length prefixes so fields cannot be shifted
// into one another ("ab"+"c" ≠ "a"+"bc"), led by the envelope header.
func (a AAD) bytes(header []byte) []byte {
	b := make([]byte, 0, len(header)+16+len(a.Workspace)+len(a.Table)+len(a.Column)+len(a.Row))
	b = append(b, header...)
	for _, f := range []string{a.Workspace, a.Table, a.Column, a.Row} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// Header is the clear part of an envelope.
type Header struct {
	Version, Alg byte
	KeyID        uint32
}

// ParseHeader reads and checks an envelope's header without opening it.
func ParseHeader(env []byte) (Header, error) {
	if len(env) < Overhead {
		return Header{}, ErrMalformed
	}
	h := Header{Version: env[0], Alg: env[1], KeyID: binary.BigEndian.Uint32(env[2:6])}
	if h.Version != Version1 || h.Alg != AlgAES256GCM {
		return Header{}, fmt.Errorf("%w: version %d algorithm %d", ErrMalformed, h.Version, h.Alg)
	}
	return h, nil
}

// Seal encrypts plaintext under a 32-byte key named keyID, bound to aad,
// with a fresh random nonce. Keep each key well under 2^32 seals (NIST SP
// 800-38D); per-workspace and per-contact keys stay far below that.
func Seal(key []byte, keyID uint32, plaintext []byte, aad AAD) ([]byte, error) {
	var nonce [nonceLen]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("keyring: nonce: %w", err)
	}
	return sealWithNonce(key, keyID, nonce, plaintext, aad)
}

// sealWithNonce is Seal with a given nonce. Only Seal (random nonces) and
// tests (fixed, reproducible envelopes) call it: reusing a nonce under one
// key breaks GCM.
func sealWithNonce(key []byte, keyID uint32, nonce [nonceLen]byte, plaintext []byte, aad AAD) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, headerLen+nonceLen, Overhead+len(plaintext))
	out[0], out[1] = Version1, AlgAES256GCM
	binary.BigEndian.PutUint32(out[2:6], keyID)
	copy(out[headerLen:], nonce[:])
	return aead.Seal(out, out[headerLen:], plaintext, aad.bytes(out[:headerLen])), nil
}

// Open decrypts an envelope. lookup returns the key for the envelope's key
// ID, or an error (such as ErrUnknownKey or ErrKeyDestroyed) that Open
// returns as is. Every authentication failure is ErrDecrypt.
func Open(lookup func(keyID uint32) ([]byte, error), env []byte, aad AAD) ([]byte, error) {
	h, err := ParseHeader(env)
	if err != nil {
		return nil, err
	}
	key, err := lookup(h.KeyID)
	if err != nil {
		return nil, err
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, env[headerLen:headerLen+nonceLen], env[headerLen+nonceLen:], aad.bytes(env[:headerLen]))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("keyring: key is %d bytes, want 32 (AES-256)", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// signaturePrefix starts an X-Hub-Signature-256 header value.
const signaturePrefix = "sha256="

// VerifySignature reports whether header, the X-Hub-Signature-256 of a
// webhook delivery, is "sha256=" followed by the hex HMAC-SHA256 of raw (the
// body exactly as received, before any JSON decoding: meta-platform.md
// §1.2) under one of secrets. Several secrets allow rotating the app secret
// or running several apps on one URL. Hex digits may be of either case. A
// missing or malformed header, the legacy "sha1=" header, and an empty
// secret never verify.
func VerifySignature(raw []byte, header string, secrets ...string) bool {
	hexSig, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok || len(hexSig) != 2*sha256.Size {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	for _, s := range secrets {
		if len(s) == 0 {
			continue
		}
		if hmac.Equal(got, mac([]byte(s), raw)) {
			return true
		}
	}
	return false
}

// Sign returns the X-Hub-Signature-256 value of raw under secret, as Meta
// sends it: "sha256=" and lower-case hex.
func Sign(raw []byte, secret string) string {
	return signaturePrefix + hex.EncodeToString(mac([]byte(secret), raw))
}

// AppSecretProof returns the appsecret_proof of a token: the lower-case hex
// HMAC-SHA256 of the token under the app secret (meta-platform.md §2.9).
func AppSecretProof(secret, token string) string {
	return hex.EncodeToString(mac([]byte(secret), []byte(token)))
}

func mac(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

package workspace

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"strings"
)

// Secrets (API keys and invitation tokens) are 32 random bytes written in
// base62: 43 characters, letters and digits only, so a double-click selects
// the whole value and it survives URLs and shell quoting unescaped.
const (
	secretDigits = 43 // ceil(256 / log2(62))
	base62       = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

	// APIKeyPrefix starts every API key, so secret scanners and people can
	// recognise one.
	APIKeyPrefix = "prly_"
	// apiKeyLen is the length of a whole API key.
	apiKeyLen = len(APIKeyPrefix) + secretDigits
	// apiKeyShownLen is how many leading characters of a key are stored and
	// shown to tell keys apart: the marker and 7 random characters (about 42
	// of the 256 random bits).
	apiKeyShownLen = 12
)

// newSecret returns 256 random bits in base62, zero-padded to a fixed length.
func newSecret() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand panics on an unusable source)
	n := new(big.Int).SetBytes(b[:])
	out := make([]byte, secretDigits)
	base, mod := big.NewInt(62), new(big.Int)
	for i := secretDigits - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = base62[mod.Int64()]
	}
	return string(out)
}

// isBase62 reports whether s is exactly secretDigits base62 characters.
func isBase62(s string) bool {
	if len(s) != secretDigits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(base62, s[i]) < 0 {
			return false
		}
	}
	return true
}

// newAPIKeySecret returns a fresh API key.
func newAPIKeySecret() string { return APIKeyPrefix + newSecret() }

// wellFormedAPIKey reports whether s has the shape of an API key, so that
// garbage is refused before it reaches the database.
func wellFormedAPIKey(s string) bool {
	return len(s) == apiKeyLen && strings.HasPrefix(s, APIKeyPrefix) && isBase62(s[len(APIKeyPrefix):])
}

// hashSecret is what the database stores in place of a secret: the hex
// SHA-256. A slow hash is unnecessary because the input has 256 random bits,
// and a fast, unsalted one lets the lookup be a plain indexed equality.
func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

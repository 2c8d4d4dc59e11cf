package selfhosted

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// DefaultKeyID is the ID [KeyFromEnv] gives a key when the ID variable is
// unset.
const DefaultKeyID = "k1"

// ErrNoKey is the error of [KeyFromEnv] when the secret's variable is unset
// or empty, so that a caller can tell "no key configured" (generate one for
// development, or refuse to start) from a key that is configured wrongly.
var ErrNoKey = errors.New("selfhosted: no application key in the environment")

// GenerateKey returns a new random key with the given ID: 32 bytes from
// crypto/rand. A key made this way lives only in this process; replicas
// that share a store need the same key, loaded with [KeyFromEnv] or
// [ParseKey] from a secret made once (`openssl rand -hex 32`).
func GenerateKey(id string) Key {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails on supported platforms
	return Key{ID: id, Secret: b}
}

// ParseKey returns the key named id whose secret is given in hexadecimal:
// at least 64 hex digits (32 bytes), as `openssl rand -hex 32` prints.
// Spaces and line breaks around it (from a file or a secret manager) are
// ignored. The ID is 1 to 32 bytes. Errors never contain the secret, nor
// any part of it.
func ParseKey(id, secretHex string) (Key, error) {
	if id == "" || len(id) > 32 {
		return Key{}, fmt.Errorf("selfhosted: key ID must be 1 to 32 bytes, got %d", len(id))
	}
	s := strings.TrimSpace(secretHex)
	if len(s)%2 != 0 {
		return Key{}, fmt.Errorf("selfhosted: key %q: the secret has an odd number of hex digits (%d)", id, len(s))
	}
	secret := make([]byte, len(s)/2)
	if _, err := hex.Decode(secret, []byte(s)); err != nil {
		// hex's error quotes the offending character: not repeated here.
		return Key{}, fmt.Errorf("selfhosted: key %q: the secret is not hexadecimal", id)
	}
	if len(secret) < 32 {
		return Key{}, fmt.Errorf("selfhosted: key %q: the secret must be at least 32 bytes (64 hex digits), got %d", id, len(secret))
	}
	return Key{ID: id, Secret: secret}, nil
}

// KeyFromEnv reads the application key from the environment: the secret,
// in hexadecimal (see [ParseKey]), from the variable name, and the key's ID
// from the variable name+"_ID", or [DefaultKeyID] when that is unset. For
// example, KeyFromEnv("VERIFYKIT_KEY") reads VERIFYKIT_KEY and
// VERIFYKIT_KEY_ID. When the secret's variable is unset or empty the error
// matches [ErrNoKey]. Errors name the variables, never their values.
func KeyFromEnv(name string) (Key, error) { return KeyFromEnvFunc(os.Getenv, name) }

// KeyFromEnvFunc is like [KeyFromEnv], but reads the variables through
// getenv, for tests and for configuration that is not the process's
// environment.
func KeyFromEnvFunc(getenv func(string) string, name string) (Key, error) {
	secret := getenv(name)
	if strings.TrimSpace(secret) == "" {
		return Key{}, fmt.Errorf("%w: %s is not set (make one with `openssl rand -hex 32`)", ErrNoKey, name)
	}
	id := getenv(name + "_ID")
	if id == "" {
		id = DefaultKeyID
	}
	k, err := ParseKey(id, secret)
	if err != nil {
		return Key{}, fmt.Errorf("%s: %w", name, err)
	}
	return k, nil
}

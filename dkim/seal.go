package dkim

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tollgate-mail/tollgate/store"
)

// EnvKey is the environment variable that may hold the DKIM key.
const EnvKey = "TOLLGATE_DKIM_KEY"

// sealer encrypts private keys at rest with the store's AES-256-GCM
// Sealer (the webhooks' signing secrets are sealed the same way, under the
// same key).
type sealer struct{ z *store.Sealer }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("dkim: the key must be 32 bytes, got %d", len(key))
	}
	z, err := store.NewSealer(key)
	if err != nil {
		return nil, err
	}
	return &sealer{z}, nil
}

// seal encrypts s's PKCS#8 form; aad binds it to its row.
func (z *sealer) seal(s crypto.Signer, aad string) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(s)
	if err != nil {
		return "", err
	}
	return z.z.Seal(der, aad)
}

func (z *sealer) open(sealed, aad string) (crypto.Signer, error) {
	der, err := z.z.Open(sealed, aad)
	if errors.Is(err, store.ErrUnseal) {
		return nil, errors.New("sealed key does not open with this installation's DKIM key (was [dkim] key_file or TOLLGATE_DKIM_KEY changed?)")
	}
	if err != nil {
		return nil, errors.New("sealed key is not base64 of nonce and ciphertext")
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("sealed key of type %T", k)
	}
	return s, nil
}

// LoadKey finds the installation's DKIM key: the environment variable
// TOLLGATE_DKIM_KEY, else keyFile, else (devDir not "") a key made once in
// devDir/dkim-key (0600). The key is 32 bytes written as 64 hex digits or
// as base64. The error names where a key is expected, so an operator who
// turned signing on sees what to set.
func LoadKey(keyFile, devDir string) ([]byte, string, error) {
	if v := strings.TrimSpace(os.Getenv(EnvKey)); v != "" {
		k, err := parseKey(v)
		if err != nil {
			return nil, "", fmt.Errorf("dkim: %s: %w", EnvKey, err)
		}
		return k, EnvKey, nil
	}
	if keyFile == "" && devDir != "" {
		keyFile = filepath.Join(devDir, "dkim-key")
		if _, err := os.Stat(keyFile); errors.Is(err, os.ErrNotExist) {
			k := make([]byte, 32)
			if _, err := rand.Read(k); err != nil {
				return nil, "", err
			}
			if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
				return nil, "", fmt.Errorf("dkim: make dev key %s: %w", keyFile, err)
			}
		}
	}
	if keyFile == "" {
		return nil, "", fmt.Errorf("dkim: signing is on ([dkim] enabled) but no key is set: set [dkim] key_file to a file holding 32 random bytes in hex (openssl rand -hex 32), or the environment variable %s", EnvKey)
	}
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, "", fmt.Errorf("dkim: [dkim] key_file: %w", err)
	}
	k, err := parseKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, "", fmt.Errorf("dkim: [dkim] key_file %s: %w", keyFile, err)
	}
	return k, keyFile, nil
}

func parseKey(v string) ([]byte, error) {
	if k, err := hex.DecodeString(v); err == nil && len(k) == 32 {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(v); err == nil && len(k) == 32 {
		return k, nil
	}
	return nil, errors.New("not 32 bytes in hex (64 digits) or base64: make one with `openssl rand -hex 32`")
}

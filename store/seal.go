package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// ErrUnseal says a sealed value did not open with the key given: the
// installation's key changed, or the value was bound to another row.
var ErrUnseal = errors.New("sealed value does not open with this installation's key (was [dkim] key_file or TOLLGATE_DKIM_KEY changed?)")

// Sealer encrypts values at rest with AES-256-GCM under the installation's
// 32-byte key (dkim.LoadKey: [dkim] key_file or TOLLGATE_DKIM_KEY), so a
// copy of the database (a backup, a dump) does not hold the secrets it
// protects. The DKIM private keys and the delivery-event webhooks' signing
// secrets are sealed with it. Each value is bound to its row by the
// additional data (aad): a sealed value copied to another row does not open.
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns a Sealer for key, which must be 32 bytes.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("store: the sealing key must be 32 bytes, got %d", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("store: sealing key: %w", err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return nil, fmt.Errorf("store: sealing key: %w", err)
	}
	return &Sealer{g}, nil
}

// Seal encrypts plain with a fresh random nonce, bound to aad; the result
// is base64 of the nonce and the ciphertext.
func (z *Sealer) Seal(plain []byte, aad string) (string, error) {
	nonce := make([]byte, z.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("store: seal: %w", err)
	}
	return base64.StdEncoding.EncodeToString(z.aead.Seal(nonce, nonce, plain, []byte(aad))), nil
}

// Open decrypts what Seal made for the same aad.
func (z *Sealer) Open(sealed, aad string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	n := z.aead.NonceSize()
	if err != nil || len(b) < n {
		return nil, errors.New("sealed value is not base64 of nonce and ciphertext")
	}
	plain, err := z.aead.Open(nil, b[:n], b[n:], []byte(aad))
	if err != nil {
		return nil, ErrUnseal
	}
	return plain, nil
}

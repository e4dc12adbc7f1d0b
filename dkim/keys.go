// Package dkim signs tenants' outbound mail with DKIM (RFC 6376, Ed25519
// per RFC 8463 beside RSA) for their verified accepted domains, and keeps
// the keys: generated on verification or uploaded by the tenant, sealed at
// rest under the installation's DKIM key, shared by every node through the
// store, rotated through two selectors (publish the new one, sign with it
// once it is seen in DNS, retire the old one).
//
// Signing happens at delivery (Transport wraps the queue's transport), so
// it covers every header Tollgate added at acceptance (Received,
// Feedback-ID, Message-ID) and the body exactly as it goes to the next hop.
package dkim

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Algorithms, the values of Key.Algorithm and the k= tag of the record.
const (
	Ed25519 = "ed25519"
	RSA     = "rsa"
)

// Key states. A generation moves pending → active → retired as a whole.
const (
	Pending = "pending" // published by the tenant? not seen in DNS yet: not used to sign
	Active  = "active"  // seen in DNS: signs
	Retired = "retired" // replaced by a newer generation: the record may be removed
)

// Key is one DKIM key of a domain (without its private half).
type Key struct {
	ID         int64
	TenantID   int64
	Domain     string
	Selector   string
	Generation int
	Algorithm  string
	PublicKey  string // base64 of the record's p= tag
	Origin     string // "generated" or "uploaded"
	State      string
	CreatedAt  time.Time
	ActiveAt   time.Time // zero until seen in DNS
	RetiredAt  time.Time
}

// RecordName is the DNS name the key is published at.
func (k Key) RecordName() string { return k.Selector + "._domainkey." + k.Domain }

// RecordValue is the TXT value to publish.
func (k Key) RecordValue() string {
	return fmt.Sprintf("v=DKIM1; k=%s; p=%s", k.Algorithm, k.PublicKey)
}

// DNSRecord is the whole record in zone-file form, as the domain's
// verification record is shown. A TXT string holds at most 255 bytes, so
// an RSA key's value is split into several strings, which resolvers join.
func (k Key) DNSRecord() string {
	v := k.RecordValue()
	var parts []string
	for len(v) > 250 {
		parts = append(parts, fmt.Sprintf("%q", v[:250]))
		v = v[250:]
	}
	parts = append(parts, fmt.Sprintf("%q", v))
	return fmt.Sprintf("%s. IN TXT %s", k.RecordName(), strings.Join(parts, " "))
}

// newKey makes a private key of algo.
func newKey(algo string) (crypto.Signer, error) {
	switch algo {
	case Ed25519:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	case RSA:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("dkim: unknown algorithm %q", algo)
}

// describe returns the algorithm and the p= value of a private key.
func describe(s crypto.Signer) (algo, pub string, err error) {
	switch p := s.Public().(type) {
	case ed25519.PublicKey:
		return Ed25519, base64.StdEncoding.EncodeToString(p), nil
	case *rsa.PublicKey:
		if p.N.BitLen() < 1024 {
			return "", "", fmt.Errorf("an RSA key of %d bits is too short: receivers ignore signatures under 1024 bits (use 2048)", p.N.BitLen())
		}
		if p.N.BitLen() > 4096 {
			return "", "", fmt.Errorf("an RSA key of %d bits is too long for a DNS record (use 2048)", p.N.BitLen())
		}
		der, err := x509.MarshalPKIXPublicKey(p)
		if err != nil {
			return "", "", err
		}
		return RSA, base64.StdEncoding.EncodeToString(der), nil
	}
	return "", "", fmt.Errorf("unsupported key type %T: DKIM signs with RSA or Ed25519", s.Public())
}

// ParsePrivateKeyPEM reads a tenant's own key: one PEM block, PKCS#8
// ("PRIVATE KEY", RSA or Ed25519) or PKCS#1 ("RSA PRIVATE KEY").
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found: upload a private key beginning with -----BEGIN PRIVATE KEY-----")
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, errors.New("more than one PEM block: upload one private key")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key (want PRIVATE KEY or RSA PRIVATE KEY)", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parse private key: %v", err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported key type %T: DKIM signs with RSA or Ed25519", key)
	}
	if _, _, err := describe(s); err != nil {
		return nil, err
	}
	return s, nil
}

// ValidSelector checks a selector a tenant chose: DNS label characters.
func ValidSelector(s string) error {
	if s == "" || len(s) > 63 {
		return fmt.Errorf("selector %q must be 1 to 63 characters", s)
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("selector %q may hold only a-z, 0-9 and '-'", s)
		}
	}
	if s[0] == '-' || s[len(s)-1] == '-' {
		return fmt.Errorf("selector %q must not start or end with '-'", s)
	}
	return nil
}

// selectorFor names generation gen's key of algo: tg1e, tg1r, tg2e, ...
// A new name per generation lets the old record stay published while
// mail signed with it is still in flight.
func selectorFor(gen int, algo string) string {
	return fmt.Sprintf("tg%d%c", gen, algo[0])
}

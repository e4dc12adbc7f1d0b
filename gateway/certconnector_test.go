package gateway_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
)

// testCA signs client certificates for certificate-connector tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T) *testCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test tenant CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// file writes the CA's certificate where tls.client_ca_file can name it.
func (ca *testCA) file(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(f, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// client makes a client certificate for dnsName, signed by ca (or
// self-signed when ca is nil).
func clientCert(t *testing.T, ca *testCA, dnsName string) tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: dnsName},
		DNSNames: []string{dnsName}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	parent, signer := tmpl, any(key)
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func dialWithCert(t *testing.T, a string, cert *tls.Certificate) *smtp.Client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", a, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{InsecureSkipVerify: true}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	c, err := smtp.NewClientStartTLS(conn, cfg)
	if err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	c.CommandTimeout = 10 * time.Second
	t.Cleanup(func() { c.Close() })
	return c
}

// A certificate connector attributes a server by its TLS client
// certificate: one signed by the configured CA for a name within the
// tenant's verified domain relays; no certificate, another domain's, or a
// self-signed one with the right name gets 5.7.64 (and still gets TLS).
func TestCertificateConnector(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	ca := newCA(t)
	cfg := testConfig(t, sink.Addr())
	cfg.TLS.ClientCAFile = ca.file(t)
	g := start(t, cfg, false)
	tn := seedTenantWithConnector(t, g, "acme", "acme.test", "")
	if _, err := g.Directory.CreateCertConnector(context.Background(), directory.By{Actor: "test"}, tn.ID, "mx", "*.acme.test"); err != nil {
		t.Fatal(err)
	}

	good := clientCert(t, ca, "mx1.acme.test")
	c := dialWithCert(t, addr(g, "relay"), &good)
	if err := send(c, "a@acme.test", []string{"x@example.net"}, testMessage("cert", "via certificate")); err != nil {
		t.Fatalf("a CA-signed certificate for mx1.acme.test must relay: %v", err)
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 1 }) {
		t.Fatal("message did not arrive")
	}

	wrongDomain := clientCert(t, ca, "mx.evil.test")
	selfSigned := clientCert(t, nil, "mx1.acme.test")
	for name, cert := range map[string]*tls.Certificate{"no certificate": nil, "other domain": &wrongDomain, "self-signed": &selfSigned} {
		c := dialWithCert(t, addr(g, "relay"), cert)
		if err := c.Mail("a@acme.test", nil); err != nil {
			t.Fatalf("%s: MAIL: %v", name, err)
		}
		err := c.Rcpt("x@example.net", nil)
		if se, ok := err.(*smtp.SMTPError); !ok || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 64}) {
			t.Fatalf("%s: RCPT got %v, want 5.7.64", name, err)
		}
	}
	if sink.Count() != 1 {
		t.Fatalf("sink has %d messages", sink.Count())
	}
}

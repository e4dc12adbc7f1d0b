package dkim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"strings"
	"testing"

	msgauth "github.com/emersion/go-msgauth/dkim"
	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/dnstest"
	"github.com/tollgate-mail/tollgate/dnsverify"
	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func openStore(t *testing.T, db *store.DB, key []byte) (*Store, *audit.Log) {
	t.Helper()
	log, err := audit.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), db, Options{Key: key, Audit: log})
	if err != nil {
		t.Fatal(err)
	}
	return s, log
}

// publish puts keys' records in the test DNS server.
func publish(t *testing.T, dns *dnstest.Server, keys ...Key) {
	t.Helper()
	for _, k := range keys {
		dns.Set(t, k.RecordName(), strings.Replace(k.DNSRecord(), " IN TXT ", " 60 IN TXT ", 1))
	}
}

// verify checks msg's signatures with go-msgauth against dns and returns
// the selectors that verified for domain.
func verify(t *testing.T, dns *dnstest.Server, msg []byte) []string {
	t.Helper()
	r := dnsverify.New(dns.Addr)
	vs, err := msgauth.VerifyWithOptions(bytes.NewReader(msg), &msgauth.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) { return r.LookupTXT(context.Background(), name) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var ok []string
	for _, v := range vs {
		if v.Err != nil {
			t.Errorf("signature of %s failed: %v", v.Domain, v.Err)
			continue
		}
		ok = append(ok, v.Domain)
	}
	return ok
}

func signed(t *testing.T, s *Store, tenant int64, domain string, msg string) []byte {
	t.Helper()
	keys, err := s.signingKeys(context.Background(), tenant, domain)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		return []byte(msg)
	}
	sigs, err := signatures(strings.NewReader(msg), domain, keys)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(sigs + msg)
}

const sample = "From: Ann <ann@acme.test>\r\nTo: bob@example.net\r\nSubject: hello\r\nMessage-ID: <1@acme.test>\r\n\r\nHi Bob,\r\n\r\nsee you.\r\n"

// A domain's keys go live only once seen in DNS, sign with both
// algorithms, and rotate through a second generation without a gap.
func TestLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, log := openStore(t, db, testKey(1))
		dns := dnstest.Start(t)
		r := dnsverify.New(dns.Addr)

		keys, created, err := s.Ensure(ctx, 7, "Acme.test.", "admin:a@acme.test")
		if err != nil || !created || len(keys) != 2 {
			t.Fatalf("ensure: %v %v %+v", created, err, keys)
		}
		for _, k := range keys {
			if k.State != Pending || k.Domain != "acme.test" || !strings.HasPrefix(k.RecordValue(), "v=DKIM1; k="+k.Algorithm+"; p=") {
				t.Fatalf("new key %+v", k)
			}
		}
		if again, created, err := s.Ensure(ctx, 7, "acme.test", "x"); err != nil || created || len(again) != 2 {
			t.Fatalf("second ensure made keys: %v %v", created, err)
		}
		if got := signed(t, s, 7, "acme.test", sample); !bytes.Equal(got, []byte(sample)) {
			t.Fatal("signed with keys not yet seen in DNS")
		}
		res, err := s.Check(ctx, 7, "acme.test", r, "x")
		if err != nil || res.Activated != 0 || res.Keys[0].Published || !strings.Contains(res.Keys[0].Detail, "no TXT record") {
			t.Fatalf("check before publishing: %+v %v", res, err)
		}
		publish(t, dns, keys[0]) // only one of two: not enough
		if res, _ := s.Check(ctx, 7, "acme.test", r, "x"); res.Activated != 0 {
			t.Fatal("activated with one record of two")
		}
		publish(t, dns, keys...)
		if res, err := s.Check(ctx, 7, "acme.test", r, "x"); err != nil || res.Activated != 1 {
			t.Fatalf("check after publishing: %+v %v", res, err)
		}
		msg := signed(t, s, 7, "acme.test", sample)
		if n := bytes.Count(msg, []byte("DKIM-Signature:")); n != 2 {
			t.Fatalf("%d signatures, want 2:\n%s", n, msg)
		}
		if ok := verify(t, dns, msg); len(ok) != 2 {
			t.Fatalf("verified %v", ok)
		}

		// Rotation: the new generation waits; the old one keeps signing.
		next, err := s.Rotate(ctx, 7, "acme.test", "x")
		if err != nil || len(next) != 2 || next[0].Generation != 2 || next[0].Selector == keys[0].Selector {
			t.Fatalf("rotate: %+v %v", next, err)
		}
		if _, err := s.Rotate(ctx, 7, "acme.test", "x"); !errors.Is(err, ErrPending) {
			t.Fatalf("second rotation while one is pending: %v", err)
		}
		s.forget(7, "acme.test")
		if !bytes.Contains(signed(t, s, 7, "acme.test", sample), []byte("s="+keys[0].Selector)) {
			t.Fatal("the old generation stopped signing before the new one was seen")
		}
		publish(t, dns, next...)
		if res, err := s.Check(ctx, 7, "acme.test", r, "x"); err != nil || res.Activated != 2 {
			t.Fatalf("check after publishing the new generation: %+v %v", res, err)
		}
		msg = signed(t, s, 7, "acme.test", sample)
		if bytes.Contains(msg, []byte("s="+keys[0].Selector)) || !bytes.Contains(msg, []byte("s="+next[0].Selector)) {
			t.Fatalf("after rotation:\n%s", msg)
		}
		if ok := verify(t, dns, msg); len(ok) != 2 {
			t.Fatalf("verified %v after rotation", ok)
		}
		all, _ := s.Keys(ctx, 7, "acme.test")
		for _, k := range all {
			if want := map[int]string{1: Retired, 2: Active}[k.Generation]; k.State != want {
				t.Fatalf("key %s is %s, want %s", k.Selector, k.State, want)
			}
		}
		// Another tenant sees none of it.
		if other, _ := s.Keys(ctx, 8, "acme.test"); len(other) != 0 {
			t.Fatal("keys visible to another tenant")
		}
		for _, action := range []string{"dkim.generate", "dkim.rotate", "dkim.activate"} {
			got, err := log.Query(ctx, audit.Filter{Action: action})
			if err != nil || len(got) == 0 {
				t.Fatalf("no audit entry %s: %v", action, err)
			}
			if bytes.Contains(got[0].After, []byte("PRIVATE")) || bytes.Contains(got[0].After, []byte("sealed")) {
				t.Fatalf("audit entry holds key material: %s", got[0].After)
			}
		}
	})
}

// Private keys are sealed: the row holds no PKCS#8, and a store with
// another installation key cannot sign with them.
func TestSealedAtRest(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	s, _ := openStore(t, db, testKey(1))
	dns := dnstest.Start(t)
	keys, _, err := s.Ensure(ctx, 1, "acme.test", "x")
	if err != nil {
		t.Fatal(err)
	}
	publish(t, dns, keys...)
	if _, err := s.Check(ctx, 1, "acme.test", dnsverify.New(dns.Addr), "x"); err != nil {
		t.Fatal(err)
	}
	var sealed string
	if err := db.Read.QueryRow(`SELECT private_sealed FROM dkim_keys WHERE algorithm = 'rsa'`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "MII") { // base64 of a DER SEQUENCE starts so
		t.Fatal("the private key is stored in the clear")
	}
	other, err := Open(ctx, db, Options{Key: testKey(2)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.signingKeys(ctx, 1, "acme.test"); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("opened with the wrong key: %v", err)
	}
	// Moving a sealed key to another row does not open either.
	if _, err := db.Write.Exec(`UPDATE dkim_keys SET tenant_id = 2`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.signingKeys(ctx, 2, "acme.test"); err == nil {
		t.Fatal("a sealed key opened in another tenant's row")
	}
}

// A tenant's own key signs like a generated one once its record is seen.
func TestUpload(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	s, _ := openStore(t, db, testKey(1))
	dns := dnstest.Start(t)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemData := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}))
	for _, bad := range []struct{ pem, sel, want string }{
		{"not a key", "", "no PEM block"},
		{"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "", "not a private key"},
		{pemData, "Bad_Sel", "may hold only"},
	} {
		if _, err := s.Upload(ctx, 1, "acme.test", bad.pem, bad.sel, "x"); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("upload %q: %v, want %q", bad.want, err, bad.want)
		}
	}
	k, err := s.Upload(ctx, 1, "acme.test", pemData, "mykey", "x")
	if err != nil || k.Selector != "mykey" || k.Origin != "uploaded" || k.Algorithm != RSA {
		t.Fatalf("upload: %+v %v", k, err)
	}
	publish(t, dns, k)
	if res, err := s.Check(ctx, 1, "acme.test", dnsverify.New(dns.Addr), "x"); err != nil || res.Activated != 1 {
		t.Fatalf("check: %+v %v", res, err)
	}
	msg := signed(t, s, 1, "acme.test", sample)
	if !bytes.Contains(msg, []byte("s=mykey")) || len(verify(t, dns, msg)) != 1 {
		t.Fatalf("uploaded key did not sign:\n%s", msg)
	}
}

func TestFromDomain(t *testing.T) {
	for in, want := range map[string]string{
		"From: Ann <ann@Acme.Test>\r\n\r\n":                          "acme.test",
		"From: a@b.test, c@b.test\r\n\r\n":                           "b.test",
		"From: a@b.test, c@d.test\r\n\r\n":                           "",
		"From: a@b.test\r\nFrom: a@b.test\r\n\r\n":                   "",
		"To: x@y.test\r\n\r\n":                                       "",
		"From: =?utf-8?q?J=C3=B6rg?= <j@b\xc3\xbccher.test>\r\n\r\n": "xn--bcher-kva.test",
	} {
		got, err := FromDomain(strings.NewReader(in))
		if got != want || (want != "" && err != nil) {
			t.Errorf("FromDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func FuzzFromDomain(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("From: \"a\" <@>\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		FromDomain(bytes.NewReader(b))
	})
}

func TestPrefixedReadAt(t *testing.T) {
	rest := strings.NewReader("world")
	p := io.NewSectionReader(prefixed{head: []byte("hello "), rest: rest}, 0, 11)
	for _, chunk := range []int{1, 3, 64} {
		var out []byte
		buf := make([]byte, chunk)
		for off := int64(0); ; {
			n, err := p.ReadAt(buf, off)
			out = append(out, buf[:n]...)
			off += int64(n)
			if err != nil {
				break
			}
		}
		if string(out) != "hello world" {
			t.Fatalf("chunk %d: %q", chunk, out)
		}
	}
}

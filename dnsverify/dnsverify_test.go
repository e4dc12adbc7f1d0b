package dnsverify

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/dnstest"
)

func TestCheckPublishChangeRemove(t *testing.T) {
	z := dnstest.Start(t)
	c := New(z.Addr)
	ctx := context.Background()
	const token = "abc123"

	// Nothing published, no such domain.
	r, err := c.Check(ctx, "acme.test", token)
	if err != nil || r.Verified || !strings.Contains(r.Detail, "does not exist") {
		t.Fatalf("NXDOMAIN: %+v %v", r, err)
	}
	// The domain exists but has no TXT.
	z.Set(t, "acme.test", "acme.test. 60 IN A 192.0.2.1")
	r, err = c.Check(ctx, "acme.test", token)
	if err != nil || r.Verified || !strings.Contains(r.Detail, "no TXT records") || !strings.Contains(r.Detail, Record(token)) {
		t.Fatalf("no TXT: %+v %v", r, err)
	}
	// Other TXT records only.
	z.Set(t, "acme.test", "acme.test. 60 IN A 192.0.2.1", `acme.test. 60 IN TXT "v=spf1 -all"`)
	r, _ = c.Check(ctx, "acme.test", token)
	if r.Verified || len(r.Found) != 1 || r.Found[0] != "v=spf1 -all" || !strings.Contains(r.Detail, "none of them") {
		t.Fatalf("other TXT: %+v", r)
	}
	// A verification record with an old token.
	z.Set(t, "acme.test", `acme.test. 60 IN TXT "tollgate-verification=old999"`)
	r, _ = c.Check(ctx, "acme.test", token)
	if r.Verified || !strings.Contains(r.Detail, "old999") || !strings.Contains(r.Detail, token) {
		t.Fatalf("old token: %+v", r)
	}
	// Published (split into two strings, as long TXT values are).
	z.Set(t, "acme.test", `acme.test. 60 IN TXT "v=spf1 -all"`, `acme.test. 60 IN TXT "tollgate-verif" "ication=abc123"`)
	r, err = c.Check(ctx, "ACME.test.", token)
	if err != nil || !r.Verified {
		t.Fatalf("published: %+v %v", r, err)
	}
	// Removed again.
	z.Set(t, "acme.test", "acme.test. 60 IN A 192.0.2.1")
	if r, _ := c.Check(ctx, "acme.test", token); r.Verified {
		t.Fatal("a removed record still verifies")
	}
	// A failing server is an error to retry, not a "no".
	z.ServFail(true)
	if _, err := c.Check(ctx, "acme.test", token); !errors.Is(err, ErrLookup) {
		t.Fatalf("SERVFAIL: %v, want ErrLookup", err)
	}
}

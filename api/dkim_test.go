package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/client"
)

// A domain gets its DKIM keys when it is verified; the API shows their
// records beside the verification TXT, checks them with the same
// resolver, rotates them and takes a tenant's own key.
func TestDKIMOverAPI(t *testing.T) {
	e := newEnv(t)
	var tn client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "acme"}, &tn)
	base := fmt.Sprintf("/api/v1/tenants/%d/domains", tn.ID)
	var dom client.Domain
	e.want(201, "op", "POST", base, map[string]any{"name": "acme.test"}, &dom)
	if st, body := e.call("op", "POST", base+"/acme.test/dkim", nil, nil); st != 409 || !strings.Contains(body, "not verified") {
		t.Fatalf("keys for an unverified domain: %d %s", st, body)
	}
	e.dns.Set(t, "acme.test", "acme.test. 60 IN TXT "+strings.SplitN(dom.Record, "IN TXT ", 2)[1])
	var v struct{ Domain client.Domain }
	e.want(200, "op", "POST", base+"/acme.test/verify", nil, &v)
	if v.Domain.DKIM == nil || len(*v.Domain.DKIM) != 2 {
		t.Fatalf("verified domain without DKIM records: %+v", v.Domain)
	}
	keys := *v.Domain.DKIM
	for _, k := range keys {
		if k.State != "pending" || k.Name != k.Selector+"._domainkey.acme.test" || !strings.HasPrefix(k.Value, "v=DKIM1; k="+k.Algorithm+"; p=") {
			t.Fatalf("key %+v", k)
		}
	}
	var list struct{ Domains []client.Domain }
	e.want(200, "op", "GET", base, nil, &list)
	if len(list.Domains) != 1 || list.Domains[0].DKIM == nil || len(*list.Domains[0].DKIM) != 2 {
		t.Fatalf("domain list without DKIM: %+v", list)
	}
	e.want(200, "op", "POST", base+"/acme.test/dkim", nil, nil) // had them: 200, not 201
	var chk struct {
		Checked   []client.DKIMKey
		Activated int
	}
	e.want(200, "op", "POST", base+"/acme.test/dkim/check", nil, &chk)
	if chk.Activated != 0 || len(chk.Checked) != 2 || *chk.Checked[0].Published || !strings.Contains(chk.Checked[0].Detail, "no TXT record") {
		t.Fatalf("check before publishing: %+v", chk)
	}
	for _, k := range keys {
		e.dns.Set(t, k.Name, strings.Replace(k.Record, " IN TXT ", " 60 IN TXT ", 1))
	}
	e.want(200, "op", "POST", base+"/acme.test/dkim/check", nil, &chk)
	if chk.Activated != 1 {
		t.Fatalf("check after publishing: %+v", chk)
	}
	var rot struct{ Keys []client.DKIMKey }
	e.want(201, "op", "POST", base+"/acme.test/dkim/rotate", nil, &rot)
	if len(rot.Keys) != 2 || rot.Keys[0].Generation != 2 {
		t.Fatalf("rotate: %+v", rot)
	}
	if st, body := e.call("op", "POST", base+"/acme.test/dkim/rotate", nil, nil); st != 409 || !strings.Contains(body, "waiting") {
		t.Fatalf("second rotation: %d %s", st, body)
	}
	for _, bad := range []struct {
		body any
		want string
	}{
		{map[string]any{}, "pem"},
		{map[string]any{"pem": "junk"}, "no PEM block"},
		{map[string]any{"pem": "junk", "extra": 1}, "unknown field"},
	} {
		if st, body := e.call("op", "POST", base+"/acme.test/dkim/keys", bad.body, nil); st != 400 || !strings.Contains(body, bad.want) {
			t.Errorf("upload %v: %d %s", bad.body, st, body)
		}
	}
	var audit struct{ Entries []client.AuditEntry }
	e.want(200, "op", "GET", "/api/v1/audit?action=dkim.rotate", nil, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Actor != "token:bootstrap" {
		t.Fatalf("rotation audit: %+v", audit.Entries)
	}
}

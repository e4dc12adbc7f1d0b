package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/client"
)

// checkingTransport validates every answer the typed client receives
// against openapi.json before handing it on.
type checkingTransport struct{ t *testing.T }

func (c checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		checkAnswer(c.t, req.Method, req.URL.RequestURI(), resp.StatusCode, b)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// client is the typed client of the env's API with token.
func (e *env) client(token string) *client.Client {
	return client.New(e.srv.URL, token, client.WithHTTPClient(&http.Client{Transport: checkingTransport{e.t}}))
}

// The typed client against the real API: each call decodes into the wire
// types, each answer matches openapi.json, and refusals come back as
// *client.Error with status, code and one readable line.
func TestTypedClient(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	op := e.client("op")
	acme, err := op.CreateTenant(ctx, client.TenantCreate{Name: "acme", License: "licensed", Seats: 5})
	if err != nil || acme.Name != "acme" || acme.Seats != 5 || acme.Effective != "licensed" {
		t.Fatalf("create tenant = %+v, %v", acme, err)
	}
	_, err = op.CreateTenant(ctx, client.TenantCreate{Name: "acme"})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 409 || ce.Code != "conflict" {
		t.Fatalf("a second acme = %v, want a 409 conflict *client.Error", err)
	}
	if msg := err.Error(); !strings.HasSuffix(msg, "(409)") || strings.Count(msg, "conflict") > 0 || !strings.Contains(msg, `"acme"`) {
		t.Errorf("error line %q: want the message once, naming acme, ending (409)", msg)
	}
	dom, err := op.AddDomain(ctx, acme.ID, "acme.test")
	if err != nil || dom.Verified || !strings.Contains(dom.Record, "tollgate-verification=") {
		t.Fatalf("add domain = %+v, %v", dom, err)
	}
	e.dns.Set(t, "acme.test", "acme.test. 60 IN TXT "+strings.SplitN(dom.Record, "IN TXT ", 2)[1])
	if v, err := op.VerifyDomain(ctx, acme.ID, "acme.test"); err != nil || !v.Verified || !v.Domain.Verified {
		t.Fatalf("verify = %+v, %v", v, err)
	}
	if u, err := op.CreateUser(ctx, acme.ID, client.UserCreate{Address: "ann@acme.test", Password: "a long password"}); err != nil || u.Address != "ann@acme.test" {
		t.Fatalf("create user = %+v, %v", u, err)
	}
	k, err := op.CreateConnector(ctx, acme.ID, client.ConnectorCreate{Name: "office", IPRanges: []string{"192.0.2.0/28"}})
	if err != nil || !k.Probation || k.CreatedBy != "token:bootstrap" {
		t.Fatalf("create connector = %+v, %v", k, err)
	}
	if err := op.DeleteConnector(ctx, acme.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	ks, err := op.Connectors(ctx, acme.ID)
	if err != nil || len(ks) != 1 || ks[0].Live || ks[0].DeletedAt == nil {
		t.Fatalf("connectors after delete = %+v, %v", ks, err)
	}
	entries, err := op.Audit(ctx, client.AuditFilter{Tenant: acme.ID, Action: "connector.delete"})
	if err != nil || len(entries) != 1 || entries[0].Actor != "token:bootstrap" || !strings.Contains(string(entries[0].Before), `"office"`) {
		t.Fatalf("audit of the deletion = %+v, %v", entries, err)
	}
	if rep, err := op.VerifyAudit(ctx); err != nil || !rep.OK || rep.HeadID == 0 {
		t.Fatalf("verify audit = %+v, %v", rep, err)
	}

	// A tenant admin's token sees its tenant only, and another's not at all.
	other, err := op.CreateTenant(ctx, client.TenantCreate{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	mine := e.client(e.tenantToken(acme.ID))
	if ts, err := mine.Tenants(ctx); err != nil || len(ts) != 1 || ts[0].ID != acme.ID {
		t.Fatalf("tenant admin's tenants = %+v, %v", ts, err)
	}
	if _, err := mine.Domains(ctx, other.ID); !client.IsStatus(err, 404) {
		t.Fatalf("another tenant's domains = %v, want 404", err)
	}
	// Operator routes do not exist for a tenant admin.
	if _, err := mine.CreateTenant(ctx, client.TenantCreate{Name: "mine"}); !client.IsStatus(err, 404) {
		t.Fatalf("a tenant admin creating a tenant = %v, want 404", err)
	}
	// The tenant picker's search, by domain, for operators only.
	if res, err := op.SearchTenants(ctx, "ACME.T", 0, 0); err != nil || len(res.Tenants) != 1 || res.Tenants[0].ID != acme.ID ||
		len(res.Tenants[0].Domains) != 1 || res.Tenants[0].Domains[0] != "acme.test" || res.More {
		t.Fatalf("search acme.t = %+v, %v", res, err)
	}
	if res, err := op.SearchTenants(ctx, "", 1, 1); err != nil || len(res.Tenants) != 1 || res.Tenants[0].ID != other.ID || res.More {
		t.Fatalf("second page of one = %+v, %v", res, err)
	}
	if _, err := mine.SearchTenants(ctx, "o", 0, 0); !client.IsStatus(err, 404) {
		t.Fatalf("a tenant admin's tenant search = %v, want 404", err)
	}
	if _, err := e.client("").Tenants(ctx); !client.IsCode(err, "unauthorized") {
		t.Fatalf("no token = %v, want unauthorized", err)
	}
}

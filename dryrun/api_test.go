package dryrun_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/tollgate-mail/tollgate/dryrun"
	"github.com/tollgate-mail/tollgate/gateway"
)

// post calls the admin API with token and decodes the answer into out.
func post(t *testing.T, g *gateway.Gateway, token, path string, body any, out any) int {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", "http://"+g.Addrs["admin"].String()+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// POST /api/v1/simulate/policy answers the dry run for operators; a tenant
// admin's token is refused, even for its own tenant (the report reads every tenant's trace); bad settings
// and spans are 400s naming the field.
func TestDryRunAPI(t *testing.T) {
	g := startGateway(t)
	shop := seedTenant(t, g, "shop", "127.0.0.2")
	relay(t, g, "127.0.0.2", "shop.test", 100, 4)
	if err := g.Trace.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var rep dryrun.Report
	if st := post(t, g, g.AdminToken, "/api/v1/simulate/policy", map[string]any{"settings": map[string]any{"tenant_spam_ratio": 0.2}, "last": "1h", "tenant": "shop"}, &rep); st != 200 {
		t.Fatalf("dry run: %d", st)
	}
	if len(rep.Tenants) != 1 || rep.Tenants[0].TenantID != shop.ID || rep.Tenants[0].DryRun.Stopped == nil || rep.Tenants[0].DryRun.Stopped.Message != 80 {
		t.Fatalf("report: %+v", rep)
	}

	var tok struct{ Token string }
	if st := post(t, g, g.AdminToken, "/api/v1/tokens", map[string]any{"name": "shop-admin", "tenant_id": shop.ID}, &tok); st != 201 {
		t.Fatalf("create tenant token: %d", st)
	}
	// Operator routes answer a tenant admin as if they did not exist.
	if st := post(t, g, tok.Token, "/api/v1/simulate/policy", map[string]any{"last": "1h", "tenant": "shop"}, nil); st != 404 && st != 403 {
		t.Fatalf("a tenant admin's dry run: %d, want a refusal", st)
	}
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"settings": map[string]any{"tenant_spam_ratio": 5}}, "settings"},
		{map[string]any{"settings": map[string]any{"no_such_key": 1}}, "settings"},
		{map[string]any{"last": "a week"}, "last"},
		{map[string]any{"last": "1000h"}, "since"},
		{map[string]any{"since": "yesterday"}, "since"},
		{map[string]any{"tenant": "nobody"}, ""},
	} {
		var e struct {
			Error struct{ Field, Message string }
		}
		st := post(t, g, g.AdminToken, "/api/v1/simulate/policy", c.body, &e)
		want := 400
		if c.field == "" {
			want = 404
		}
		if st != want || e.Error.Field != c.field || e.Error.Message == "" {
			t.Errorf("%v: %d %+v, want %d naming %q", c.body, st, e.Error, want, c.field)
		}
	}
}

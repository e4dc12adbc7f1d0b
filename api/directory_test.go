package api

import (
	"bytes"
	"log/slog"
	"time"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/corrections"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/trace"

	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/tollgate-mail/tollgate/alert"
	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/dkim"
	"github.com/tollgate-mail/tollgate/dnstest"
	"github.com/tollgate-mail/tollgate/dnsverify"
	"github.com/tollgate-mail/tollgate/events"
	"github.com/tollgate-mail/tollgate/nexthop"
	"github.com/tollgate-mail/tollgate/store"
	"github.com/tollgate-mail/tollgate/suppress"
)

// env is an admin API over a real directory and audit log (SQLite) with
// DNS answered by a server on loopback. Token "op" is the bootstrap
// operator; tenantToken makes a real tenant-scoped API token.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	events *events.Dispatcher
	// hookClient, when set, posts the delivery events (a test's TLS receiver).
	hookClient *atomic.Pointer[http.Client]
	dir        *directory.Directory
	log        *audit.Log
	dns        *dnstest.Server
	blocks     *blocks.Store
	trace      *trace.Store
	corr       *corrections.Store
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "tollgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dir, err := directory.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	lg, err := audit.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	bl, err := blocks.Open(ctx, db, blocks.Options{Audit: lg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bl.Close() })
	tr, err := trace.OpenStore(ctx, db, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	corr, err := corrections.Open(ctx, db, corrections.Options{Audit: lg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { corr.Close() })
	dns := dnstest.Start(t)
	keys, err := dkim.Open(ctx, db, dkim.Options{Key: bytes.Repeat([]byte{7}, 32), Audit: lg})
	if err != nil {
		t.Fatal(err)
	}
	sup, err := suppress.Open(ctx, db, lg)
	if err != nil {
		t.Fatal(err)
	}
	// Tenants' delivery-event webhooks, with the URL rules of a gateway
	// that allows its loopback receivers (as events.allowed_internal_webhooks
	// can), over https only.
	loop := nexthop.Guard{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	evs, err := events.Open(ctx, db, lg, events.StoreOptions{Rules: events.URLRules{Guard: loop},
		Client: events.GuardedClient(loop), Key: bytes.Repeat([]byte{5}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	var hookClient atomic.Pointer[http.Client]
	// A dispatcher sending with few, quick retries, so a failing receiver
	// marks an event failed within a test.
	disp, err := events.NewDispatcher(events.Config{Outbox: evs, Node: "api-test", Hook: func(ctx context.Context, id int64) *alert.Webhook {
		h := evs.Hook(ctx, id)
		if h == nil {
			return nil
		}
		c := *h
		c.Attempts, c.Backoff = 2, 5*time.Millisecond
		if hc := hookClient.Load(); hc != nil {
			c.Client = hc // trusts a test's TLS receiver
		}
		return &c
	}})
	if err != nil {
		t.Fatal(err)
	}
	evs.Attach(disp)
	t.Cleanup(func() { disp.Close(context.Background()) })
	s := New(Options{Events: evs, Token: "op", Tokens: DirectoryTokens(dir), Directory: dir, Audit: lg, Verifier: dnsverify.New(dns.Addr),
		Blocks: bl, Policy: policy.DefaultSettings(), Trace: tr, DKIM: keys, DKIMResolver: dnsverify.New(dns.Addr), Suppress: sup,
		Corrections: corr})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, events: disp, hookClient: &hookClient, dir: dir, log: lg, dns: dns, blocks: bl, trace: tr, corr: corr}
}

// call sends a request and decodes the JSON answer into out (if not nil).
func (e *env) call(token, method, path string, body any, out any) (int, string) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.(string)
		if !ok {
			j, _ := json.Marshal(body)
			b = string(j)
		}
		rd = strings.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		checkAnswer(e.t, method, path, resp.StatusCode, b)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode, string(b)
}

// tenantToken creates an API token scoped to tenant id, as an operator.
func (e *env) tenantToken(id int64) string {
	e.t.Helper()
	var tok client.Token
	e.want(201, "op", "POST", "/api/v1/tokens", map[string]any{"name": fmt.Sprintf("tenant-%d", id), "tenant_id": id}, &tok)
	if tok.Token == "" {
		e.t.Fatal("no secret in the create answer")
	}
	return tok.Token
}

func (e *env) want(status int, token, method, path string, body any, out any) string {
	e.t.Helper()
	got, b := e.call(token, method, path, body, out)
	if got != status {
		e.t.Fatalf("%s %s: %d %s, want %d", method, path, got, b, status)
	}
	return b
}

// A tenant's lifecycle over the API: create, add and verify a domain (DNS
// on loopback), create a user, create and delete a connector, and find it
// all in the audit log.
func TestDirectoryOverAPI(t *testing.T) {
	e := newEnv(t)
	var tn client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "acme", "license": "licensed", "seats": 20}, &tn)
	base := fmt.Sprintf("/api/v1/tenants/%d", tn.ID)
	var lic client.Tenant
	e.want(200, "op", "PUT", base+"/licence", map[string]any{"license": "expired"}, &lic)
	e.want(200, "op", "PUT", base+"/licence", map[string]any{"license": "licensed", "seats": 30, "license_expires": "2000-01-01T00:00:00Z"}, &lic)
	if lic.Effective != "expired" {
		t.Fatalf("a subscription that ended is expired: %+v", lic)
	}
	lic = client.Tenant{}
	e.want(200, "op", "PUT", base+"/licence", map[string]any{"license": "licensed", "seats": 30}, &lic)
	if lic.License != "licensed" || lic.Seats != 30 || lic.Effective != "licensed" || lic.Expires != nil {
		t.Fatalf("licence: %+v", lic)
	}
	var dom client.Domain
	e.want(201, "op", "POST", base+"/domains", map[string]any{"name": "acme.test"}, &dom)
	if dom.Verified || !strings.HasPrefix(dom.Record, `acme.test. IN TXT "tollgate-verification=`) {
		t.Fatalf("new domain %+v", dom)
	}
	var v struct {
		Verified bool
		Detail   string
	}
	e.want(200, "op", "POST", base+"/domains/acme.test/verify", nil, &v)
	if v.Verified || !strings.Contains(v.Detail, "does not exist") {
		t.Fatalf("verify before publishing: %+v", v)
	}
	txt := strings.SplitN(dom.Record, "IN TXT ", 2)[1]
	e.dns.Set(t, "acme.test", "acme.test. 60 IN TXT "+txt)
	e.want(200, "op", "POST", base+"/domains/acme.test/verify", nil, &v)
	if !v.Verified {
		t.Fatalf("verify after publishing: %+v", v)
	}
	var u client.User
	e.want(201, "op", "POST", base+"/users", map[string]any{"address": "ann@acme.test", "password": "a long password"}, &u)
	ctx := context.Background()
	if _, _, err := e.dir.Authenticate(ctx, "ann@acme.test", "a long password"); err != nil {
		t.Fatalf("new user cannot sign in: %v", err)
	}
	e.want(204, "op", "PUT", fmt.Sprintf("%s/users/%d/password", base, u.ID), map[string]any{"password": "another long one"}, nil)
	if _, _, err := e.dir.Authenticate(ctx, "ann@acme.test", "another long one"); err != nil {
		t.Fatalf("changed password: %v", err)
	}
	var du client.User
	e.want(200, "op", "PUT", fmt.Sprintf("%s/users/%d/disabled", base, u.ID), map[string]any{"disabled": true}, &du)
	if _, _, err := e.dir.Authenticate(ctx, "ann@acme.test", "another long one"); err == nil || !du.Disabled {
		t.Fatal("a disabled user can still sign in")
	}
	e.want(400, "op", "PUT", fmt.Sprintf("%s/users/%d/disabled", base, u.ID), map[string]any{}, nil)
	var c client.Connector
	e.want(201, "op", "POST", base+"/connectors", map[string]any{"name": "onprem", "ip_ranges": []string{"192.0.2.0/24", "2001:db8::1"}}, &c)
	if c.CreatedBy != "token:bootstrap" || len(c.IPRanges) != 2 || c.IPRanges[1] != "2001:db8::1/128" {
		t.Fatalf("connector %+v", c)
	}
	e.want(204, "op", "DELETE", fmt.Sprintf("%s/connectors/%d", base, c.ID), nil, nil)
	var cs struct{ Connectors []client.Connector }
	e.want(200, "op", "GET", base+"/connectors", nil, &cs)
	if len(cs.Connectors) != 1 || cs.Connectors[0].Live || cs.Connectors[0].DeletedAt == nil || cs.Connectors[0].CreatedBy != "token:bootstrap" {
		t.Fatalf("a deleted connector keeps its record and creator: %+v", cs)
	}
	var au struct{ Entries []client.AuditEntry }
	e.want(200, "op", "GET", "/api/v1/audit?action=connector.create&days=7", nil, &au)
	if len(au.Entries) != 1 || au.Entries[0].Target != fmt.Sprintf("connector:%d", c.ID) || au.Entries[0].Actor != "token:bootstrap" || au.Entries[0].SourceIP != "127.0.0.1" {
		t.Fatalf("connectors created in the last 7 days: %+v", au.Entries)
	}
	e.want(200, "op", "GET", fmt.Sprintf("/api/v1/audit?tenant=%d", tn.ID), nil, &au)
	var actions []string
	for _, en := range au.Entries {
		actions = append(actions, en.Action)
	}
	if got := strings.Join(actions, " "); got != "connector.delete connector.create user.disable user.password user.create dkim.generate domain.verify domain.add licence.change licence.change licence.change tenant.create" {
		t.Fatalf("audit trail: %s", got)
	}
	if r, err := e.log.Verify(context.Background()); err != nil || !r.OK {
		t.Fatalf("audit chain: %+v %v", r, err)
	}
}

// Bad requests get a 4xx with a stable code naming the field, never a 500.
func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	var tn client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "acme"}, &tn)
	base := fmt.Sprintf("/api/v1/tenants/%d", tn.ID)
	cases := []struct {
		method, path string
		body         any
		status       int
		code, field  string
	}{
		{"POST", "/api/v1/tenants", `{"name":"x","colour":"red"}`, 400, "unknown_field", "colour"},
		{"POST", "/api/v1/tenants", `{"name":`, 400, "bad_json", ""},
		{"POST", "/api/v1/tenants", `{"name":"a"} {"name":"b"}`, 400, "bad_json", ""},
		{"POST", "/api/v1/tenants", `{"name":"x","seats":"many"}`, 400, "invalid", "seats"},
		{"POST", "/api/v1/tenants", `{"name":"x","license":"forever"}`, 400, "invalid", ""},
		{"POST", "/api/v1/tenants", `{"name":"acme"}`, 409, "conflict", ""},
		{"POST", "/api/v1/tenants", ``, 400, "bad_json", ""},
		{"POST", base + "/domains", `{"name":"not a domain"}`, 400, "invalid", ""},
		{"POST", base + "/connectors", `{"name":"x","ip_ranges":["10.0.0.0/33"]}`, 400, "invalid", "ip_ranges[0]"},
		{"POST", base + "/connectors", `{"name":"x","ip_ranges":["192.0.2.0/24","nonsense"]}`, 400, "invalid", "ip_ranges[1]"},
		{"POST", base + "/connectors", `{"name":"x","ip_ranges":[]}`, 400, "invalid", "ip_ranges"},
		{"POST", base + "/connectors", `{"name":"x","ip_ranges":["192.0.2.1"],"certificate_domain":"mx.acme.test"}`, 400, "invalid", "certificate_domain"},
		{"POST", base + "/connectors", `{"name":"x","certificate_domain":"*.unverified.test"}`, 400, "invalid", ""},
		{"POST", base + "/connectors", `{"name":"wide","ip_ranges":["0.0.0.0/0"]}`, 400, "invalid", ""},
		{"POST", base + "/users", `{"address":"nobody","password":"long enough pw"}`, 400, "invalid", ""},
		{"POST", base + "/users", `{"address":"ann@unverified.test","password":"long enough pw"}`, 400, "invalid", ""},
		{"GET", "/api/v1/tenants/abc", nil, 400, "invalid", "tenant"},
		{"GET", "/api/v1/tenants/999", nil, 404, "not_found", ""},
		{"DELETE", base + "/connectors/xyz", nil, 400, "invalid", "connector"},
		{"DELETE", base + "/connectors/12345", nil, 404, "not_found", ""},
		{"POST", base + "/domains/nope.test/verify", nil, 404, "not_found", ""},
		{"GET", "/api/v1/audit?since=yesterday", nil, 400, "invalid", "since"},
		{"GET", "/api/v1/audit?limit=-1", nil, 400, "invalid", "limit"},
		{"GET", "/api/v1/nothing", nil, 404, "not_found", ""},
	}
	for _, c := range cases {
		status, body := e.call("op", c.method, c.path, c.body, nil)
		var got struct{ Error apiError }
		if status != c.status || json.Unmarshal([]byte(body), &got) != nil || got.Error.Code != c.code || got.Error.Field != c.field || got.Error.Message == "" {
			t.Errorf("%s %s %v: %d %s; want %d code %q field %q", c.method, c.path, c.body, status, body, c.status, c.code, c.field)
		}
	}
	// Connector ranges overlapping another tenant's are refused.
	var other client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "other"}, &other)
	e.want(201, "op", "POST", base+"/connectors", map[string]any{"name": "a", "ip_ranges": []string{"198.51.100.0/24"}}, nil)
	b := e.want(409, "op", "POST", fmt.Sprintf("/api/v1/tenants/%d/connectors", other.ID), map[string]any{"name": "b", "ip_ranges": []string{"198.51.100.128/25"}}, nil)
	if strings.Contains(b, "acme") {
		t.Fatalf("the conflict must not reveal the other tenant: %s", b)
	}
}

// A tenant admin can never read or change another tenant's data: every
// tenant-scoped route, called by tenant A's admin with tenant B's ids, is a
// 404, and B's objects are unchanged afterwards.
func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	var a, b client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "alpha"}, &a)
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "bravo"}, &b)
	bBase := fmt.Sprintf("/api/v1/tenants/%d", b.ID)
	var bc client.Connector
	e.want(201, "op", "POST", bBase+"/domains", map[string]any{"name": "bravo.test"}, nil)
	if err := e.dir.MarkDomainVerified(context.Background(), directory.By{}, b.ID, "bravo.test"); err != nil {
		t.Fatal(err)
	}
	e.want(201, "op", "POST", bBase+"/connectors", map[string]any{"name": "b-mx", "ip_ranges": []string{"203.0.113.0/24"}}, &bc)
	var bu client.User
	e.want(201, "op", "POST", bBase+"/users", map[string]any{"address": "bob@bravo.test", "password": "long enough pw"}, &bu)
	var bap client.AppPassword
	e.want(201, "op", "POST", fmt.Sprintf("%s/users/%d/app-passwords", bBase, bu.ID), map[string]any{"name": "phone"}, &bap)
	var btok client.Token
	e.want(201, "op", "POST", "/api/v1/tokens", map[string]any{"name": "bravo-ci", "tenant_id": b.ID}, &btok)
	// Alpha's admin, signed in with password and TOTP, and an alpha API
	// token: each walks every route against bravo's objects.
	e.want(201, "op", "POST", fmt.Sprintf("/api/v1/tenants/%d/admins", a.ID), map[string]any{"email": "boss@alpha.test", "password": "correct horse battery"}, nil)
	var s1 struct{ Ticket, Secret string }
	e.want(200, "", "POST", "/api/v1/signin", map[string]any{"email": "boss@alpha.test", "password": "correct horse battery"}, &s1)
	code, _ := totp.GenerateCode(s1.Secret, time.Now())
	var sess struct{ Token string }
	e.want(200, "", "POST", "/api/v1/signin/totp", map[string]any{"ticket": s1.Ticket, "code": code}, &sess)
	// Bravo is blocked, has asked to be unblocked and has a restricted
	// sender: the protection routes are walked too.
	ctx := context.Background()
	blk, _, err := e.blocks.BlockTenant(ctx, blocks.Block{TenantID: b.ID, Reason: blocks.ReasonThreshold, Rule: "tenant-threshold",
		Evidence: blocks.Evidence{Samples: []blocks.Sample{{Subject: "bravo spam"}}}}, "system")
	if err != nil {
		t.Fatal(err)
	}
	req, err := e.blocks.RequestUnblock(ctx, b.ID, "a leaked password", "reset it", "admin:bob@bravo.test")
	if err != nil {
		t.Fatal(err)
	}
	rs, _, err := e.blocks.Restrict(ctx, blocks.Restriction{TenantID: b.ID, Kind: blocks.KindSender, Subject: "bob@bravo.test",
		Reason: "spam", Rule: "outbound-spam-policy"}, "system")
	if err != nil {
		t.Fatal(err)
	}
	// And a message of bravo's in the trace.
	now := time.Now()
	for _, ev := range []trace.Event{
		{Time: now, Session: "bs1", TenantID: b.ID, Stage: "mail", Outcome: "accept", Attrs: []slog.Attr{slog.String("from", "spam@bravo.test")}},
		{Time: now, Session: "bs1", TenantID: b.ID, Stage: "queued", Outcome: "ok", QueueID: "BRAVOQ1", Attrs: []slog.Attr{slog.String("queue_id", "BRAVOQ1"), slog.String("subject", "bravo secret")}},
	} {
		e.trace.Record(ctx, ev)
	}
	// And a correction of bravo's.
	bmark, err := e.corr.Mark(ctx, corrections.Mark{TenantID: b.ID, Tenant: "bravo", Message: "BRAVOQ1", Fingerprint: "aa-bb",
		Tokens: []string{"body:bravo"}, Label: corrections.LabelNotSpam, MarkedBy: "tenant admin bob@bravo.test"})
	if err != nil {
		t.Fatal(err)
	}
	extra := map[string]string{"{request}": fmt.Sprint(req.ID), "{restriction}": fmt.Sprint(rs.ID), "{id}": "BRAVOQ1",
		"{correction}": fmt.Sprint(bmark.ID)}
	for _, tokA := range []string{sess.Token, e.tenantToken(a.ID)} {
		walkAsAlpha(t, e, tokA, a, b, bc, bu, bap, btok, extra)
	}
	if ms, err := e.corr.List(ctx, corrections.Filter{TenantID: b.ID, Active: true}); err != nil || len(ms) != 1 {
		t.Errorf("bravo's correction after alpha's walk: %+v %v", ms, err)
	}
	// The operator finds bravo's message; alpha's walk above did not.
	var found struct{ Messages []trace.Summary }
	e.want(200, "op", "GET", "/api/v1/trace?sender=spam@bravo.test", nil, &found)
	if len(found.Messages) != 1 || found.Messages[0].ID != "BRAVOQ1" || found.Messages[0].Subject != "bravo secret" {
		t.Fatalf("operator trace search: %+v", found)
	}
	// Bravo's block, request and restriction are untouched.
	if got, ok := e.blocks.ActiveBlock(b.ID); !ok || got.ID != blk.ID {
		t.Fatalf("bravo's block changed: %+v %v", got, ok)
	}
	if got, err := e.blocks.UnblockRequest(ctx, req.ID); err != nil || got.Status != blocks.StatusPending {
		t.Fatalf("bravo's unblock request changed: %+v %v", got, err)
	}
	if _, ok := e.blocks.Restricted(b.ID, blocks.KindSender, "bob@bravo.test", time.Now()); !ok {
		t.Fatal("bravo's restriction was released by alpha")
	}
	// Bravo is untouched: its connector, app password and token all live.
	var cs struct{ Connectors []client.Connector }
	e.want(200, "op", "GET", bBase+"/connectors", nil, &cs)
	if len(cs.Connectors) != 1 || !cs.Connectors[0].Live {
		t.Fatalf("bravo's connectors changed: %+v", cs)
	}
	var aps struct {
		AppPasswords []client.AppPassword `json:"app_passwords"`
	}
	e.want(200, "op", "GET", fmt.Sprintf("%s/users/%d/app-passwords", bBase, bu.ID), nil, &aps)
	if len(aps.AppPasswords) != 1 || aps.AppPasswords[0].Revoked {
		t.Fatalf("bravo's app passwords changed: %+v", aps)
	}
	e.want(200, btok.Token, "GET", bBase, nil, nil)
	// And alpha's admin manages alpha.
	e.want(201, sess.Token, "POST", fmt.Sprintf("/api/v1/tenants/%d/domains", a.ID), map[string]any{"name": "alpha.test"}, nil)
}

// walkAsAlpha calls every admin route with tenant bravo's ids as alpha.
func walkAsAlpha(t *testing.T, e *env, tokA string, a, b client.Tenant, bc client.Connector, bu client.User, bap client.AppPassword, btok client.Token, extra map[string]string) {
	t.Helper()

	bodies := map[string]any{
		"/domains":          map[string]any{"name": "evil.test"},
		"/connectors":       map[string]any{"name": "evil", "ip_ranges": []string{"192.0.2.9"}},
		"/users":            map[string]any{"address": "x@bravo.test", "password": "long enough pw"},
		"/app-passwords":    map[string]any{"name": "evil"},
		"/admins":           map[string]any{"email": "evil@bravo.test", "password": "a long enough password"},
		"/unblock-requests": map[string]any{"cause": "x", "fix": "y"},
		"/blocks":           map[string]any{"reason": "x"},
	}
	tried := 0
	for _, rt := range routes {
		if rt.access == public || !strings.HasPrefix(rt.path, "/api/v1/") {
			continue
		}
		path := rt.path
		for k, v := range extra {
			path = strings.ReplaceAll(path, k, v)
		}
		path = strings.NewReplacer("{tenant}", fmt.Sprint(b.ID), "{domain}", "bravo.test",
			"{connector}", fmt.Sprint(bc.ID), "{user}", fmt.Sprint(bu.ID), "{app_password}", fmt.Sprint(bap.ID),
			"{token}", fmt.Sprint(btok.ID), "{id}", "x").Replace(path)
		for k, v := range extra {
			path = strings.ReplaceAll(path, k, v)
		}
		var body any
		for suffix, bd := range bodies {
			if strings.HasSuffix(rt.path, suffix) && rt.method == "POST" {
				body = bd
			}
		}
		if rt.path == "/api/v1/tenants" && rt.method == "POST" {
			body = map[string]any{"name": "sneaky"}
		}
		if strings.HasSuffix(rt.path, "/password") {
			body = map[string]any{"password": "evil password 1"}
		}
		if strings.HasSuffix(rt.path, "/disabled") {
			body = map[string]any{"disabled": true}
		}
		if strings.HasSuffix(rt.path, "/licence") {
			body = map[string]any{"license": "expired"}
		}
		if rt.path == "/api/v1/operators" && rt.method == "POST" {
			body = map[string]any{"email": "evil@x.test", "password": "a long enough password"}
		}
		if rt.path == "/api/v1/tokens" && rt.method == "POST" {
			body = map[string]any{"name": "sneaky", "tenant_id": b.ID}
		}
		status, resp := e.call(tokA, rt.method, path, body, nil)
		switch {
		case rt.path == "/api/v1/tenants" && rt.method == "GET", rt.path == "/api/v1/audit", rt.path == "/api/v1/tokens" && rt.method == "GET",
			rt.path == "/api/v1/trace", rt.path == "/api/v1/corrections":
			// Allowed, but scoped: nothing of bravo's may appear.
			if status != 200 || strings.Contains(resp, "bravo") || strings.Contains(resp, "b-mx") {
				t.Errorf("%s %s as alpha: %d %s", rt.method, path, status, resp)
			}
		case rt.path == "/api/v1/me/password":
			// The caller's own password, never bravo's: without the
			// current password and a code it changes nothing.
			if status == 200 {
				t.Errorf("%s %s as alpha changed a password with a bogus body: %s", rt.method, path, resp)
			}
		case status != http.StatusNotFound:
			t.Errorf("%s %s as alpha's admin: %d %s, want 404", rt.method, path, status, resp)
		}
		tried++
	}
	if tried < 18 {
		t.Fatalf("walked only %d routes", tried)
	}
	// Also explicitly asking the audit log for bravo.
	if st, _ := e.call(tokA, "GET", fmt.Sprintf("/api/v1/audit?tenant=%d", b.ID), nil, nil); st != 404 {
		t.Errorf("audit for another tenant: %d", st)
	}
}

// The OpenAPI document and the route table describe the same API.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	inDoc := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			if regexp.MustCompile(`^(get|post|put|patch|delete)$`).MatchString(m) {
				inDoc[strings.ToUpper(m)+" "+p] = true
			}
		}
	}
	inCode := map[string]bool{}
	for _, rt := range routes {
		if strings.HasPrefix(rt.path, "/api/v1/") {
			inCode[rt.method+" "+rt.path] = true
		}
	}
	var missing []string
	for k := range inCode {
		if !inDoc[k] {
			missing = append(missing, "undocumented: "+k)
		}
	}
	for k := range inDoc {
		if !inCode[k] {
			missing = append(missing, "documented but not served: "+k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatal(strings.Join(missing, "\n"))
	}
	srv := httptest.NewServer(New(Options{}).Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(b, openAPI) {
		t.Fatalf("served document differs: %d", resp.StatusCode)
	}
}

// A tenant token works for its tenant only, and stops at once when revoked.
func TestTokenLifecycle(t *testing.T) {
	e := newEnv(t)
	var a client.Tenant
	e.want(201, "op", "POST", "/api/v1/tenants", map[string]any{"name": "alpha"}, &a)
	var tok client.Token
	e.want(201, "op", "POST", "/api/v1/tokens", map[string]any{"name": "ci", "tenant_id": a.ID}, &tok)
	base := fmt.Sprintf("/api/v1/tenants/%d", a.ID)
	e.want(200, tok.Token, "GET", base, nil, nil)
	e.want(404, tok.Token, "POST", "/api/v1/tenants", map[string]any{"name": "x"}, nil) // operators only
	// A tenant admin's token is always for its own tenant, never the operator role.
	var own client.Token
	e.want(201, tok.Token, "POST", "/api/v1/tokens", map[string]any{"name": "deploy"}, &own)
	if own.Operator || own.TenantID != a.ID {
		t.Fatalf("a tenant admin minted %+v", own)
	}
	e.want(404, tok.Token, "POST", "/api/v1/tokens", map[string]any{"name": "x", "tenant_id": a.ID + 1}, nil)
	var list struct{ Tokens []client.Token }
	e.want(200, tok.Token, "GET", "/api/v1/tokens", nil, &list)
	if len(list.Tokens) != 2 || list.Tokens[0].Token != "" || list.Tokens[1].Token != "" {
		t.Fatalf("token list %+v (the secret must never be listed)", list)
	}
	e.want(204, "op", "DELETE", fmt.Sprintf("/api/v1/tokens/%d", tok.ID), nil, nil)
	e.want(401, tok.Token, "GET", base, nil, nil)
	e.want(401, tok.Token[:len(tok.Token)-1]+"x", "GET", base, nil, nil)
	var au struct{ Entries []client.AuditEntry }
	e.want(200, "op", "GET", "/api/v1/audit?action_prefix=token", nil, &au)
	seen := map[string]int{}
	for _, en := range au.Entries {
		seen[en.Action]++
	}
	// Two creates, one revoke, and one use per token (the first use; later
	// ones within a minute are not logged again).
	if seen["token.create"] != 2 || seen["token.revoke"] != 1 || seen["token.use"] != 1 || au.Entries[0].Action != "token.revoke" ||
		strings.Contains(fmt.Sprint(au.Entries), tok.Token) {
		t.Fatalf("token audit entries %v %+v (and never the secret)", seen, au.Entries)
	}
}

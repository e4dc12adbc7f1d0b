package gateway_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// The content the built-in model calls spam, and ordinary mail it calls
// clean; each long enough to have a fingerprint.
const (
	spamBody = `<html><body><p>Dear friend, you have been selected to receive a FREE offer!</p>
<p>Make money fast from home. Click here to claim your cash prize now. 100% guaranteed, no risk,
order now and save. To be removed from our mailing list click <a href="http://192.0.2.7/remove">here</a>.</p>
<img src="http://192.0.2.7/a.gif"><img src="http://192.0.2.7/b.gif"><img src="http://192.0.2.7/c.gif">
</body></html>`
	cleanBody = `Hi Bob,

I think the package was upgraded yesterday; the patch I sent to the list
should fix it. Can you rebuild with the latest version and tell me
whether the error is still there? I will look at the logs tomorrow morning.

Thanks,
Alice`
)

// correctionMessage is one message of a tenant with a unique Message-ID,
// so its trace can be found.
func correctionMessage(from, id, subject, contentType, body string) string {
	return "From: " + from + "\r\nTo: someone@example.net\r\nSubject: " + subject + "\r\nMessage-ID: <" + id + ">\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: " + contentType + "\r\n\r\n" + strings.ReplaceAll(body, "\n", "\r\n") + "\r\n"
}

type tracedVerdict struct {
	id, verdict, reasons, fingerprint, score, tokens string
}

// traced finds a message by its Message-ID in the trace, as its tenant's
// admin would, and returns its classify event's figures.
func traced(t *testing.T, g *gateway.Gateway, token, msgID string) tracedVerdict {
	t.Helper()
	var list struct{ Messages []traceSummaryJSON }
	if code := apiCall(t, g, token, "GET", "/api/v1/trace?message_id="+url.QueryEscape(msgID), nil, &list); code != 200 || len(list.Messages) != 1 {
		t.Fatalf("trace search for %s: %d %+v", msgID, code, list.Messages)
	}
	var one struct {
		Events []struct {
			Stage string
			Attrs map[string]string
		}
	}
	id := list.Messages[0].ID
	if code := apiCall(t, g, token, "GET", "/api/v1/trace/"+url.PathEscape(id), nil, &one); code != 200 {
		t.Fatalf("trace of %s: %d", id, code)
	}
	for _, e := range one.Events {
		if e.Stage == "classify" {
			return tracedVerdict{id: id, verdict: e.Attrs["verdict"], reasons: e.Attrs["reasons"], fingerprint: e.Attrs["fingerprint"],
				score: e.Attrs["score"], tokens: e.Attrs["tokens"]}
		}
	}
	t.Fatalf("trace of %s has no classify event: %+v", id, one.Events)
	return tracedVerdict{}
}

type traceSummaryJSON struct {
	ID       string `json:"id"`
	TenantID int64  `json:"tenant_id"`
}

// A tenant admin's "not spam" on a traced spam verdict makes the next
// message with that content from the tenant clean, with the correction as
// the reason, over real SMTP; the same content from another tenant stays
// spam; another tenant's admin cannot correct it; an operator's "spam" on
// a clean message does the reverse; each mark is audited. On the embedded
// store and on PostgreSQL (the marks survive in the database, so a fleet
// shares them).
func TestCorrectionsOverSMTP(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testCorrectionsOverSMTP(t, func(*config.Config) {}) })
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		testCorrectionsOverSMTP(t, func(c *config.Config) { c.Store.PostgresDSN = dsn })
	})
}

func testCorrectionsOverSMTP(t *testing.T, store func(*config.Config)) {
	sink := startSink(t, devsink.Hooks{})
	cfg := testConfig(t, sink.Addr())
	cfg.Classify.Engine = "builtin"
	store(cfg)
	g := start(t, cfg, false)
	acme := seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	globex := seedTenantWithConnector(t, g, "globex", "globex.test", "127.0.0.3/32")
	acmeTok, globexTok := tenantToken(t, g, acme.ID), tenantToken(t, g, globex.ID)
	n := 0
	sendFrom := func(src, from, ct, body string) string {
		t.Helper()
		n++
		id := fmt.Sprintf("m%d.%s", n, from)
		c := dialStartTLSFrom(t, src, addr(g, "relay"))
		defer c.Close()
		if err := send(c, from, []string{stranger()}, correctionMessage(from, id, "offer", ct, body)); err != nil {
			t.Fatalf("send from %s: %v", from, err)
		}
		return "<" + id + ">"
	}
	const html, plain = "text/html; charset=us-ascii", "text/plain; charset=utf-8"

	first := traced(t, g, acmeTok, sendFrom("127.0.0.2", "ann@acme.test", html, spamBody))
	if first.verdict != "spam" || first.fingerprint == "" {
		t.Fatalf("the spam sample was not spam with a fingerprint: %+v", first)
	}
	// globex's admin cannot see, so cannot correct, acme's message.
	var e struct {
		Error struct{ Code, Message string }
	}
	if code := apiCall(t, g, globexTok, "POST", "/api/v1/trace/"+url.PathEscape(first.id)+"/correction", map[string]string{"label": "not_spam"}, &e); code != 404 {
		t.Fatalf("another tenant's admin corrected acme's message: %d %+v", code, e)
	}
	if code := apiCall(t, g, acmeTok, "POST", "/api/v1/trace/"+url.PathEscape(first.id)+"/correction", map[string]string{"label": "ham"}, &e); code != 400 || !strings.Contains(e.Error.Message, "label") {
		t.Errorf("a bad label: %d %+v", code, e)
	}
	var mark struct {
		Label    string
		MarkedBy string `json:"marked_by"`
	}
	if code := apiCall(t, g, acmeTok, "POST", "/api/v1/trace/"+url.PathEscape(first.id)+"/correction", map[string]string{"label": "not_spam"}, &mark); code != 201 ||
		mark.Label != "not_spam" || !strings.HasPrefix(mark.MarkedBy, "tenant admin ") {
		t.Fatalf("acme's admin marked its message: %d %+v", code, mark)
	}
	again := traced(t, g, acmeTok, sendFrom("127.0.0.2", "ann@acme.test", html, spamBody))
	if again.verdict != "clean" || !strings.HasPrefix(again.reasons, "CORRECTED_NOT_SPAM (corrected by tenant admin token:t") ||
		!strings.Contains(again.reasons, "message "+first.id) {
		t.Errorf("the same content after the not-spam mark: %+v", again)
	}
	if other := traced(t, g, globexTok, sendFrom("127.0.0.3", "bob@globex.test", html, spamBody)); other.verdict != "spam" || strings.Contains(other.reasons, "CORRECTED") {
		t.Errorf("globex's same content changed with acme's mark: %+v", other)
	}

	// The reverse: an operator marks a clean message of globex spam.
	ham := traced(t, g, globexTok, sendFrom("127.0.0.3", "bob@globex.test", plain, cleanBody))
	if ham.verdict != "clean" || ham.fingerprint == "" {
		t.Fatalf("the clean sample: %+v", ham)
	}
	if code := apiCall(t, g, g.AdminToken, "POST", "/api/v1/trace/"+url.PathEscape(ham.id)+"/correction", map[string]string{"label": "spam"}, &mark); code != 201 {
		t.Fatalf("the operator's spam mark: %d", code)
	}
	if r := traced(t, g, globexTok, sendFrom("127.0.0.3", "bob@globex.test", plain, cleanBody)); r.verdict != "spam" || !strings.HasPrefix(r.reasons, "CORRECTED_SPAM (corrected by operator ") {
		t.Errorf("globex's content after the operator's spam mark: %+v", r)
	}
	if r := traced(t, g, acmeTok, sendFrom("127.0.0.2", "ann@acme.test", plain, cleanBody)); r.verdict != "clean" {
		t.Errorf("acme's same content changed with globex's mark: %+v", r)
	}

	// Both marks are audited with actor, tenant, message, fingerprint and label.
	var audit struct {
		Entries []struct {
			Actor    string
			TenantID int64 `json:"tenant_id"`
			Target   string
			After    map[string]any
		}
	}
	if code := apiCall(t, g, g.AdminToken, "GET", "/api/v1/audit?action=classify.correct", nil, &audit); code != 200 || len(audit.Entries) != 2 {
		t.Fatalf("audit of the corrections: %d %+v", code, audit.Entries)
	}
	seen := map[string]bool{}
	for _, a := range audit.Entries {
		seen[fmt.Sprintf("%d %s %s %s", a.TenantID, a.Target, a.After["label"], a.After["fingerprint"])] = true
		if want := map[int64]string{acme.ID: fmt.Sprintf("token:t%d", acme.ID), globex.ID: "token:bootstrap"}[a.TenantID]; a.Actor != want {
			t.Errorf("audit entry's actor %q, want %q: %+v", a.Actor, want, a)
		}
	}
	for _, want := range []string{
		fmt.Sprintf("%d %s not_spam %s", acme.ID, first.id, first.fingerprint),
		fmt.Sprintf("%d %s spam %s", globex.ID, ham.id, ham.fingerprint),
	} {
		if !seen[want] {
			t.Errorf("no audit entry %q in %v", want, seen)
		}
	}
	// acme's admin sees its own tenant's correction only.
	if code := apiCall(t, g, acmeTok, "GET", "/api/v1/audit?action=classify.correct", nil, &audit); code != 200 || len(audit.Entries) != 1 || audit.Entries[0].TenantID != acme.ID {
		t.Errorf("acme's admin's audit view: %d %+v", code, audit.Entries)
	}

	// The marks are in the database: a restarted gateway follows them.
	g.Close()
	g = start(t, cfg, false)
	if r := traced(t, g, acmeTok, sendFrom("127.0.0.2", "ann@acme.test", html, spamBody)); r.verdict != "clean" || !strings.HasPrefix(r.reasons, "CORRECTED_NOT_SPAM") {
		t.Errorf("after a restart: %+v", r)
	}
}

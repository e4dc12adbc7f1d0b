package gateway_test

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/store/storetest"
)

// spamVariant has spamBody's words in other sentences: another
// fingerprint, the same vocabulary.
const spamVariant = `<html><body><p>Order now: cash and money, FREE, guaranteed! Claim your prize fast.</p>
<p>Selected friend: no risk. Save from home and click to receive the offer you have been waiting for, 100% here now.
Our mailing list: removed at <a href="http://192.0.2.7/remove">remove</a>.</p>
<img src="http://192.0.2.7/a.gif"><img src="http://192.0.2.7/b.gif"><img src="http://192.0.2.7/c.gif">
</body></html>`

// A tenant admin's "not spam" also moves the marked message's words for the
// tenant: different content with those words scores lower for that tenant
// (TENANT_WORDS in its trace) and not for another. Withdrawing the mark
// (another tenant's admin: 404; twice: 409) gives the content and its words
// the model's verdict again, also after a restart; the withdrawal is
// audited. A message too short to fingerprint answers 422 saying why. Over
// real SMTP, on the embedded store and on PostgreSQL.
func TestCorrectionWordsAndWithdrawOverSMTP(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testCorrectionWordsAndWithdraw(t, func(*config.Config) {}) })
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		testCorrectionWordsAndWithdraw(t, func(c *config.Config) { c.Store.PostgresDSN = dsn })
	})
}

func testCorrectionWordsAndWithdraw(t *testing.T, store func(*config.Config)) {
	sink := startSink(t, devsink.Hooks{})
	cfg := testConfig(t, sink.Addr())
	cfg.Classify.Engine = "builtin"
	store(cfg)
	g := start(t, cfg, false)
	acme := seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	globex := seedTenantWithConnector(t, g, "globex", "globex.test", "127.0.0.3/32")
	acmeTok, globexTok := tenantToken(t, g, acme.ID), tenantToken(t, g, globex.ID)
	n := 0
	sendFrom := func(src, from, body string) string {
		t.Helper()
		n++
		id := fmt.Sprintf("w%d.%s", n, from)
		c := dialStartTLSFrom(t, src, addr(g, "relay"))
		defer c.Close()
		if err := send(c, from, []string{stranger()}, correctionMessage(from, id, "offer", "text/html; charset=us-ascii", body)); err != nil {
			t.Fatalf("send from %s: %v", from, err)
		}
		return "<" + id + ">"
	}
	score := func(v tracedVerdict) float64 {
		t.Helper()
		f, err := strconv.ParseFloat(v.score, 64)
		if err != nil {
			t.Fatalf("score %q: %v", v.score, err)
		}
		return f
	}
	var e struct {
		Error struct{ Code, Message string }
	}

	first := traced(t, g, acmeTok, sendFrom("127.0.0.2", "ann@acme.test", spamBody))
	if first.verdict != "spam" || first.tokens == "" {
		t.Fatalf("the spam sample: %+v", first)
	}
	globexVariant := traced(t, g, globexTok, sendFrom("127.0.0.3", "bob@globex.test", spamVariant))
	var mark client.Correction
	if code := apiCall(t, g, acmeTok, "POST", "/api/v1/trace/"+url.PathEscape(first.id)+"/correction", map[string]string{"label": "not_spam"}, &mark); code != 201 ||
		strings.Join(mark.Tokens, " ") != first.tokens {
		t.Fatalf("acme's mark: %d %+v, want the traced tokens %q", code, mark, first.tokens)
	}
	variant := traced(t, g, acmeTok, sendFrom("127.0.0.2", "ann@acme.test", spamVariant))
	if strings.Contains(variant.reasons, "CORRECTED") || variant.fingerprint == first.fingerprint {
		t.Fatalf("the variant matched the mark's fingerprint; the test would not reach the words: %+v", variant)
	}
	if !strings.Contains(variant.reasons, "TENANT_WORDS (") || score(variant) >= score(globexVariant) {
		t.Errorf("acme's variant after the mark: %.2f %s; globex's %.2f", score(variant), variant.reasons, score(globexVariant))
	}
	if d := score(globexVariant) - score(variant); d > 1.5+0.01 {
		t.Errorf("the words moved the score by %.2f, more than the bound", d)
	}
	if other := traced(t, g, globexTok, sendFrom("127.0.0.3", "bob@globex.test", spamVariant)); strings.Contains(other.reasons, "TENANT_WORDS") || other.score != globexVariant.score {
		t.Errorf("globex's variant moved with acme's mark: %+v", other)
	}

	// The lists: acme's admin sees its mark, globex's does not.
	var list client.Corrections
	if code := apiCall(t, g, acmeTok, "GET", "/api/v1/corrections?message="+url.QueryEscape(first.id), nil, &list); code != 200 ||
		len(list.Corrections) != 1 || list.Corrections[0].ID != mark.ID {
		t.Errorf("acme's list: %d %+v", code, list)
	}
	if code := apiCall(t, g, globexTok, "GET", "/api/v1/corrections", nil, &list); code != 200 || len(list.Corrections) != 0 {
		t.Errorf("globex's list shows acme's marks: %d %+v", code, list)
	}
	if code := apiCall(t, g, acmeTok, "GET", "/api/v1/corrections?active=maybe", nil, &e); code != 400 || !strings.Contains(e.Error.Message, "active") {
		t.Errorf("a bad active: %d %+v", code, e)
	}

	// Withdrawing: not globex's to withdraw, acme's once.
	path := "/api/v1/corrections/" + strconv.FormatInt(mark.ID, 10)
	if code := apiCall(t, g, globexTok, "DELETE", path, nil, &e); code != 404 {
		t.Fatalf("globex's admin withdrew acme's mark: %d %+v", code, e)
	}
	if code := apiCall(t, g, acmeTok, "DELETE", "/api/v1/corrections/x", nil, &e); code != 400 {
		t.Errorf("a bad id: %d %+v", code, e)
	}
	var w client.Correction
	if code := apiCall(t, g, acmeTok, "DELETE", path, nil, &w); code != 200 || w.WithdrawnAt == nil || !strings.HasPrefix(w.WithdrawnBy, "tenant admin ") {
		t.Fatalf("acme's withdrawal: %d %+v", code, w)
	}
	if code := apiCall(t, g, acmeTok, "DELETE", path, nil, &e); code != 409 {
		t.Errorf("withdrawn twice: %d %+v", code, e)
	}
	check := func(when string) {
		t.Helper()
		same := traced(t, g, acmeTok, sendFrom("127.0.0.2", "ann@acme.test", spamBody))
		v := traced(t, g, acmeTok, sendFrom("127.0.0.2", "ann@acme.test", spamVariant))
		if same.verdict != "spam" || strings.Contains(same.reasons, "CORRECTED") || strings.Contains(v.reasons, "TENANT_WORDS") || v.score != globexVariant.score {
			t.Errorf("%s the withdrawal: the same content %+v; the variant %+v (globex's score %s)", when, same, v, globexVariant.score)
		}
	}
	check("after")
	var audit struct {
		Entries []struct {
			Actor    string
			TenantID int64 `json:"tenant_id"`
			Target   string
			Before   map[string]any
		}
	}
	if code := apiCall(t, g, g.AdminToken, "GET", "/api/v1/audit?action=classify.correct.withdraw", nil, &audit); code != 200 || len(audit.Entries) != 1 ||
		audit.Entries[0].TenantID != acme.ID || audit.Entries[0].Target != first.id || audit.Entries[0].Before["label"] != "not_spam" ||
		audit.Entries[0].Actor != fmt.Sprintf("token:t%d", acme.ID) {
		t.Errorf("audit of the withdrawal: %d %+v", code, audit.Entries)
	}

	// Too little text: 422, saying why and where to read more.
	short := func() string {
		n++
		id := fmt.Sprintf("s%d.ann@acme.test", n)
		c := dialStartTLSFrom(t, "127.0.0.2", addr(g, "relay"))
		defer c.Close()
		if err := send(c, "ann@acme.test", []string{stranger()}, correctionMessage("ann@acme.test", id, "hi", "text/plain", "thanks!")); err != nil {
			t.Fatal(err)
		}
		return "<" + id + ">"
	}()
	s := traced(t, g, acmeTok, short)
	if code := apiCall(t, g, acmeTok, "POST", "/api/v1/trace/"+url.PathEscape(s.id)+"/correction", map[string]string{"label": "spam"}, &e); code != 422 ||
		e.Error.Code != "no_fingerprint" || !strings.Contains(e.Error.Message, "too little text") || !strings.Contains(e.Error.Message, "docs/classifier.md#corrections") {
		t.Errorf("a two-word message: %d %+v", code, e)
	}

	g.Close()
	g = start(t, cfg, false)
	check("after a restart and")
}

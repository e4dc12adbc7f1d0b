package console_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/corrections"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/trace"
)

// spamContent is content the built-in model calls spam.
const spamContent = "MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n" +
	`<p>Dear friend, you have been selected to receive a FREE offer! Make money fast from home. Click here to claim your cash prize now. 100% guaranteed, no risk, order now and save. To be removed click <a href="http://192.0.2.7/remove">here</a>.</p>` + "\r\n"

// sendWithID sends one message with Message-ID msgID from source address src.
func sendWithID(t *testing.T, src, addr, from, msgID string) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: actionTimeout}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	c.CommandTimeout = actionTimeout
	err = c.Hello("lab.alpha.test")
	if err == nil {
		err = c.Mail(from, nil)
	}
	if err == nil {
		err = c.Rcpt("someone@example.net", nil)
	}
	var w io.WriteCloser
	if err == nil {
		w, err = c.Data()
	}
	if err == nil {
		_, err = io.WriteString(w, "From: "+from+"\r\nTo: someone@example.net\r\nSubject: FREE offer\r\nMessage-ID: <"+msgID+">\r\n"+spamContent)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		t.Fatalf("send %s: %v", msgID, err)
	}
}

// On a traced message's page a tenant admin marks the message not spam
// with a CSRF-protected button: without the token the form is refused, with
// it the next message with that content is clean and its trace says who
// corrected it; another tenant's admin cannot mark it from their pages.
func TestConsoleCorrection(t *testing.T) {
	g := startGateway(t, "127.0.0.1:1")
	f := newFixture(t, g)
	ctx := context.Background()
	if _, err := g.Directory.AddDomain(ctx, directory.By{}, f.alpha.ID, "alpha.test"); err != nil {
		t.Fatal(err)
	}
	if err := g.Directory.MarkDomainVerified(ctx, directory.By{}, f.alpha.ID, "alpha.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Directory.CreateConnector(ctx, directory.By{Actor: "test"}, f.alpha.ID, "main", []netip.Prefix{netip.MustParsePrefix("127.0.0.5/32")}); err != nil {
		t.Fatal(err)
	}
	relay := g.Addrs["relay"].String()
	traced := func(msgID string) (string, string) {
		t.Helper()
		if err := g.Trace.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		ms, err := g.Trace.Search(ctx, trace.Query{MessageID: msgID})
		if err != nil || len(ms) != 1 {
			t.Fatalf("trace of %s: %+v %v", msgID, ms, err)
		}
		return ms[0].ID, ms[0].Verdict
	}
	sendWithID(t, "127.0.0.5", relay, "ann@alpha.test", "c1@alpha.test")
	id, verdict := traced("c1@alpha.test")
	if verdict != "spam" {
		t.Fatalf("the spam sample: %s", verdict)
	}

	admin := newClient(t, baseURL(g))
	admin.signInHTTP(f.alphaAdmin)
	page := "/console/t/" + strconv.FormatInt(f.alpha.ID, 10) + "/trace/" + url.PathEscape(id)
	_, body := admin.get(page)
	if !strings.Contains(body, `value="not_spam"`) || !strings.Contains(body, `/trace/`+id+`/correction"`) {
		t.Fatalf("the message's page has no correction form:\n%.3000s", body)
	}
	token := csrfOf(t, body)
	if resp, _ := admin.post(page+"/correction", url.Values{"label": {"not_spam"}}, admin.base); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a correction without the CSRF token: %d, want 403", resp.StatusCode)
	}
	// beta's admin, from beta's pages, does not find alpha's message.
	other := newClient(t, baseURL(g))
	other.signInHTTP(f.betaAdmin)
	betaPage := "/console/t/" + strconv.FormatInt(f.beta.ID, 10) + "/trace/" + url.PathEscape(id)
	_, ob := other.get("/console/t/" + strconv.FormatInt(f.beta.ID, 10) + "/trace")
	if resp, _ := other.post(betaPage+"/correction", url.Values{"csrf": {csrfOf(t, ob)}, "label": {"not_spam"}}, other.base); resp.StatusCode != http.StatusNotFound {
		t.Errorf("beta's admin corrected alpha's message: %d, want 404", resp.StatusCode)
	}
	resp, _ := admin.post(page+"/correction", url.Values{"csrf": {token}, "label": {"not_spam"}}, admin.base)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the correction: %d", resp.StatusCode)
	}
	if _, body = admin.get(page); !strings.Contains(body, "Marked "+id+" not spam") {
		t.Errorf("no confirmation after the correction:\n%.3000s", body)
	}
	sendWithID(t, "127.0.0.5", relay, "ann@alpha.test", "c2@alpha.test")
	id2, verdict := traced("c2@alpha.test")
	if verdict != "clean" {
		t.Fatalf("the same content after the not-spam mark: %s", verdict)
	}
	if _, body = admin.get("/console/t/" + strconv.FormatInt(f.alpha.ID, 10) + "/trace/" + url.PathEscape(id2)); !strings.Contains(body, "CORRECTED_NOT_SPAM (corrected by tenant admin boss@alpha.test on ") {
		t.Errorf("the next message's page does not say who corrected it:\n%.4000s", body)
	}

	// The marked message's page lists the mark with a withdraw button;
	// beta's admin cannot withdraw it, alpha's can.
	_, body = admin.get(page)
	marks, err := g.Corrections.List(ctx, corrections.Filter{Message: id})
	if err != nil || len(marks) != 1 {
		t.Fatalf("the stored marks of %s: %+v %v", id, marks, err)
	}
	withdraw := page + "/correction/" + strconv.FormatInt(marks[0].ID, 10) + "/withdraw"
	if !strings.Contains(body, `action="`+withdraw+`"`) {
		t.Fatalf("the message's page has no withdraw button for correction %d:\n%.4000s", marks[0].ID, body)
	}
	if resp, _ := other.post(betaPage+"/correction/"+strconv.FormatInt(marks[0].ID, 10)+"/withdraw", url.Values{"csrf": {csrfOf(t, ob)}}, other.base); resp.StatusCode != http.StatusNotFound {
		t.Errorf("beta's admin withdrew alpha's correction: %d, want 404", resp.StatusCode)
	}
	if resp, _ := admin.post(withdraw, url.Values{"label": {"x"}}, admin.base); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a withdrawal without the CSRF token: %d, want 403", resp.StatusCode)
	}
	if resp, _ := admin.post(withdraw, url.Values{"csrf": {csrfOf(t, body)}}, admin.base); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the withdrawal: %d", resp.StatusCode)
	}
	if _, body = admin.get(page); !strings.Contains(body, "Withdrew correction") || !strings.Contains(body, "withdrawn ") || strings.Contains(body, `action="`+withdraw+`"`) {
		t.Errorf("the page after the withdrawal:\n%.4000s", body)
	}
	sendWithID(t, "127.0.0.5", relay, "ann@alpha.test", "c3@alpha.test")
	if _, verdict := traced("c3@alpha.test"); verdict != "spam" {
		t.Errorf("the same content after the withdrawal: %s, want the model's spam", verdict)
	}
}

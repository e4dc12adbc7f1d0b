package gateway_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/d--j/go-milter"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/gateway"
	"github.com/tollgate-mail/tollgate/postfix"
	"github.com/tollgate-mail/tollgate/trace"
)

// milterMessage is one transaction as an MTA hands it to the milter.
type milterMessage struct {
	clientIP, login, certSubject string
	from                         string
	rcpts                        []string
	header                       [][2]string
	body                         string
}

// sendMilter plays m through Tollgate's milter with go-milter's client (as
// Postfix's cleanup would) and returns the modifications and the final
// action.
func sendMilter(t *testing.T, g *gateway.Gateway, m milterMessage) ([]milter.ModifyAction, *milter.Action) {
	t.Helper()
	a := g.Addrs[string(postfix.MilterListener)]
	client := milter.NewClient(a.Network(), a.String(),
		milter.WithReadTimeout(10*time.Second), milter.WithWriteTimeout(10*time.Second))
	macros := milter.NewMacroBag()
	s, err := client.Session(macros)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	step := func(act *milter.Action, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if act.StopProcessing() {
			t.Fatalf("milter stopped early: %+v", act)
		}
	}
	step(s.Conn("client.test", milter.FamilyInet, 40000, m.clientIP))
	macros.Set(milter.MacroCertSubject, m.certSubject)
	step(s.Helo("client.test"))
	macros.Set(milter.MacroAuthAuthen, m.login)
	step(s.Mail("<"+m.from+">", ""))
	for _, r := range m.rcpts {
		step(s.Rcpt("<"+r+">", ""))
	}
	macros.Set(milter.MacroQueueId, "4ABCDEF")
	step(s.DataStart())
	for _, h := range m.header {
		step(s.HeaderField(h[0], h[1], nil))
	}
	step(s.HeaderEnd())
	mods, act, err := s.BodyReadFrom(strings.NewReader(m.body))
	if err != nil {
		t.Fatal(err)
	}
	return mods, act
}

func addedHeaders(mods []milter.ModifyAction) map[string]string {
	out := map[string]string{}
	for _, m := range mods {
		if m.Type == milter.ActionAddHeader || m.Type == milter.ActionInsertHeader {
			out[m.HeaderName] = m.HeaderValue
		}
	}
	return out
}

// The milter attributes by login, certificate and address like the SMTP
// port, marks what it lets through (removing a forged verdict field),
// refuses strangers with 5.7.64 and spam that blocks its tenant with
// 5.7.705, each with the help link, and traces it under Postfix's queue id.
func TestMilterDecisions(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	cfg := postfixConfig(t, sink.Addr())
	cfg.Policy.TenantSpamCount = 1
	g := startWith(t, cfg, false, gateway.Options{Classifier: subjectClassifier})
	acme := seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	seedTenantWithConnector(t, g, "spammy", "spammy.test", "127.0.0.4/32")
	ctx := context.Background()
	// Licensed: a trial tenant's mail from 192.0.2.7 would be 5.7.708
	// (the milter runs the envelope checks: no policy service judged it).
	if _, _, err := g.Directory.SetLicense(ctx, directory.By{}, acme.ID, "licensed", 5, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Directory.CreateUser(ctx, directory.By{}, acme.ID, "ann@acme.test", "ann's password 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Directory.CreateCertConnector(ctx, directory.By{Actor: "test"}, acme.ID, "mx", "mx.acme.test"); err != nil {
		t.Fatal(err)
	}
	help := g.Config.Admin.PublicURL
	hdr := func(from, subject string) [][2]string {
		return [][2]string{{"From", " " + from}, {"To", " x@example.net"}, {"Subject", " " + subject},
			{postfix.VerdictField, " clean; score=-99; pool=normal"}}
	}

	for name, m := range map[string]milterMessage{
		"login":       {clientIP: "192.0.2.7", login: "ann@acme.test", from: "ann@acme.test"},
		"certificate": {clientIP: "192.0.2.7", certSubject: "mx.acme.test", from: "a@acme.test"},
		"address":     {clientIP: "127.0.0.2", from: "a@acme.test"},
	} {
		t.Run(name, func(t *testing.T) {
			m.rcpts = []string{stranger()}
			m.header, m.body = hdr(m.from, "report "+name), "Hello.\r\n"
			mods, act := sendMilter(t, g, m)
			if act.Type != milter.ActionAccept && act.Type != milter.ActionContinue {
				t.Fatalf("final action %+v, want accept", act)
			}
			added := addedHeaders(mods)
			if v := strings.TrimSpace(added[postfix.VerdictField]); v != "clean; score=0.00; pool=normal" {
				t.Errorf("verdict field %q", v)
			}
			kind := map[string]string{"login": ":user:", "certificate": ":connector:", "address": ":connector:"}[name]
			if v := added["Feedback-ID"]; !strings.Contains(v, kind) {
				t.Errorf("Feedback-ID %q, want %s", v, kind)
			}
			var removed bool
			for _, md := range mods {
				removed = removed || (md.Type == milter.ActionChangeHeader && md.HeaderName == postfix.VerdictField && md.HeaderValue == "")
			}
			if !removed {
				t.Errorf("the client's own %s field was not removed: %+v", postfix.VerdictField, mods)
			}
		})
	}

	// A stranger: 5.7.64.
	_, act := sendMilter(t, g, milterMessage{clientIP: "192.0.2.8", from: "x@nowhere.test", rcpts: []string{stranger()},
		header: hdr("x@nowhere.test", "hi"), body: "Hi.\r\n"})
	if act.Type != milter.ActionRejectWithCode || act.SMTPCode != 550 || !strings.Contains(act.SMTPReply, "5.7.64 ") ||
		!strings.Contains(act.SMTPReply, "see "+help+"/ndr/5.7.64") {
		t.Fatalf("stranger: %+v", act)
	}
	// Spam that crosses the threshold: 5.7.705 at the end of DATA.
	_, act = sendMilter(t, g, milterMessage{clientIP: "127.0.0.4", from: "m@spammy.test", rcpts: []string{stranger()},
		header: hdr("m@spammy.test", "[spam] win big"), body: "Buy.\r\n"})
	if act.Type != milter.ActionRejectWithCode || act.SMTPCode != 550 || !strings.Contains(act.SMTPReply, "5.7.705 ") ||
		!strings.Contains(act.SMTPReply, "see "+help+"/ndr/5.7.705") {
		t.Fatalf("spam: %+v", act)
	}

	// Traced under Postfix's queue id, with the verdict.
	if err := g.Trace.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sums, err := g.Trace.Search(ctx, trace.Query{QueueID: "4ABCDEF", Limit: 50})
	if err != nil || len(sums) == 0 {
		t.Fatalf("trace by queue id: %v %v", sums, err)
	}
	var spam bool
	for _, s := range sums {
		_, events, err := g.Trace.Message(ctx, s.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			spam = spam || (e.Stage == "data" && e.Outcome == "reject" && e.Rule == "tenant-threshold" && e.Attrs["listener"] == string(postfix.MilterListener))
		}
	}
	if !spam {
		t.Error("no traced 5.7.705 from the milter")
	}
}

// milter_listen = "unix:/path" serves the milter on a Unix socket (what
// Postfix's milter client is fastest on), replacing a stale one.
func TestMilterUnixSocket(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	cfg := postfixConfig(t, sink.Addr())
	sock := filepath.Join(t.TempDir(), "milter.sock")
	cfg.Postfix.MilterListen = "unix:" + sock
	g := start(t, cfg, false)
	g.Close() // leaves the socket file behind, as a crash would
	g = start(t, cfg, false)
	seedTenantWithConnector(t, g, "acme", "acme.test", "127.0.0.2/32")
	if g.Addrs[string(postfix.MilterListener)].Network() != "unix" {
		t.Fatalf("milter listens on %v", g.Addrs[string(postfix.MilterListener)])
	}
	mods, act := sendMilter(t, g, milterMessage{clientIP: "127.0.0.2", from: "a@acme.test", rcpts: []string{stranger()},
		header: [][2]string{{"From", " a@acme.test"}, {"Subject", " hi"}}, body: "Hi.\r\n"})
	if act.Type != milter.ActionAccept && act.Type != milter.ActionContinue {
		t.Fatalf("final action %+v", act)
	}
	if _, ok := addedHeaders(mods)[postfix.VerdictField]; !ok {
		t.Errorf("no verdict field added: %+v", mods)
	}
	if code, body := probeHTTP(t, g, "/healthz/ready"); code != 200 || !strings.Contains(body, "listener_milter ok") {
		t.Errorf("/healthz/ready: %d %q", code, body)
	}
}

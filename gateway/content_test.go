package gateway_test

import (
	"bytes"
	"context"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
)

// With the built-in classifier on (the default), a message without a
// Message-ID gets one made of its queue id, and the Received header names
// the same id: the classifier's capture of the spool writer must not hide it
// (issue 10 item 11).
func TestQueueIDWithClassifierOn(t *testing.T) {
	g, sink := startSinkGateway(t, true, func(cfg *config.Config) {
		cfg.Classify.Engine = "builtin"
	})
	rc := dialRaw(t, addr(g, "relay"))
	rc.write("EHLO client.test\r\nMAIL FROM:<a@demo.test>\r\nRCPT TO:<someone@example.net>\r\nDATA\r\n")
	rc.expect("250 ")
	rc.expect("250 ")
	rc.expect("250 ")
	rc.expect("354 ")
	rc.write(testMessage("no id", "hello") + ".\r\n")
	id := queuedAs(t, rc.expect("250 "))
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 1 }) {
		t.Fatal("message not delivered")
	}
	m, err := mail.ReadMessage(bytes.NewReader(sink.Messages()[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Header.Get("Message-Id"), "<"+id+"@gw.test>"; got != want {
		t.Errorf("Message-ID %q, want %q", got, want)
	}
	if rcv := m.Header.Get("Received"); !regexp.MustCompile(`with ESMTP id ` + regexp.QuoteMeta(id) + `\s`).MatchString(rcv) {
		t.Errorf("Received %q does not name queue id %s", rcv, id)
	}
}

// A NUL byte anywhere in the content is refused at the end of DATA (and of
// BDAT) with 550 5.6.0, and nothing of the message stays in the spool; the
// session goes on and a clean message after it is accepted (issue 10 item
// 14).
func TestNULRefused(t *testing.T) {
	g, sink := startSinkGateway(t, true, nil)
	rc := dialRaw(t, addr(g, "relay"))
	rc.write("EHLO client.test\r\n")
	rc.expect("250 ")
	for _, msg := range []string{
		"Subject: nul in the body\r\n\r\nhel\x00lo\r\n",
		"Subject: nul in\x00 the header\r\n\r\nhello\r\n",
		"Subject: nul late\r\n\r\n" + strings.Repeat("line of text\r\n", 20000) + "\x00\r\n",
	} {
		rc.write("MAIL FROM:<a@demo.test>\r\n")
		rc.expect("250 ")
		rc.write("RCPT TO:<someone@example.net>\r\n")
		rc.expect("250 ")
		rc.write("DATA\r\n")
		rc.expect("354 ")
		rc.write(msg + ".\r\n")
		if l := rc.expect("550 5.6.0 "); !strings.Contains(l, "/ndr/5.6.0") {
			t.Errorf("refusal %q has no help link", l)
		}
	}
	// BDAT: the same refusal, at the last chunk.
	body := "Subject: bdat\r\n\r\nhel\x00lo\r\n"
	rc.write("MAIL FROM:<a@demo.test>\r\n")
	rc.expect("250 ")
	rc.write("RCPT TO:<someone@example.net>\r\n")
	rc.expect("250 ")
	rc.write("BDAT " + strconv.Itoa(len(body)) + " LAST\r\n" + body)
	rc.expect("550 5.6.0 ")

	rc.write("MAIL FROM:<a@demo.test>\r\n")
	rc.expect("250 ")
	rc.write("RCPT TO:<someone@example.net>\r\n")
	rc.expect("250 ")
	rc.write("DATA\r\n")
	rc.expect("354 ")
	rc.write(testMessage("clean", "hello") + ".\r\n")
	clean := queuedAs(t, rc.expect("250 "))
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 1 }) {
		t.Fatal("the clean message was not delivered")
	}
	for _, m := range sink.Messages() {
		if bytes.IndexByte(m.Data, 0) >= 0 || !strings.Contains(string(m.Data), "Subject: clean") {
			t.Fatalf("next hop got %q", m.Data)
		}
	}
	// Only the clean message was ever spooled: no body file of a refused
	// one is left in tmp/ or msg/.
	for _, sub := range []string{"tmp", "msg"} {
		files, err := os.ReadDir(filepath.Join(g.Config.Queue.Dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if f.Name() != clean {
				t.Errorf("spool %s/ holds %s", sub, f.Name())
			}
		}
	}
	msgs, err := g.Queue.List(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.ID != clean {
			t.Errorf("queue holds %s (%q)", m.ID, m.Subject)
		}
	}
}

// queuedAs is the queue id in a "250 2.0.0 OK: queued as ID" reply.
func queuedAs(t *testing.T, reply string) string {
	t.Helper()
	_, id, ok := strings.Cut(reply, "queued as ")
	if !ok || id == "" {
		t.Fatalf("no queue id in %q", reply)
	}
	return strings.TrimSpace(id)
}

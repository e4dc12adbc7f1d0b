package gateway_test

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/devsink"
)

func TestMessageSizeLimits(t *testing.T) {
	g, sink := startSinkGateway(t, true, func(cfg *config.Config) {
		cfg.SMTP.MaxMessageBytes = 10_000
	})

	c := dial(t, addr(g, "relay"))
	_, size := c.Extension("SIZE")
	if size != "10000" {
		t.Fatalf("EHLO SIZE %q, want 10000", size)
	}
	// An oversized SIZE= is refused at MAIL FROM.
	wantCode(t, c.Mail("a@demo.test", &smtp.MailOptions{Size: 10_001}), 552, "5.3.4")

	// An oversized body is refused after DATA, and nothing is delivered.
	if err := c.Mail("a@demo.test", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("x@example.net", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "Subject: big\r\n\r\n")
	line := strings.Repeat("x", 98) + "\r\n"
	for i := 0; i < 200; i++ { // 20 kB
		io.WriteString(w, line)
	}
	wantCode(t, w.Close(), 552, "5.3.4")
	// The session goes on: a message within the limit is taken.
	if err := send(c, "a@demo.test", []string{"x@example.net"}, testMessage("small", "fits")); err != nil {
		t.Fatalf("after a refused message the next must go through: %v", err)
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 1 }) {
		t.Fatal("small message did not arrive")
	}
	if strings.Contains(string(sink.Messages()[0].Data), "big") {
		t.Fatal("the oversized message was delivered")
	}
}

func TestRecipientLimit(t *testing.T) {
	g, sink := startSinkGateway(t, true, func(cfg *config.Config) {
		cfg.SMTP.MaxRecipients = 5
	})
	c := dial(t, addr(g, "relay"))
	if err := c.Mail("a@demo.test", nil); err != nil {
		t.Fatal(err)
	}
	var rcpts []string
	for i := 0; i < 5; i++ {
		r := fmt.Sprintf("r%d@example.net", i)
		if err := c.Rcpt(r, nil); err != nil {
			t.Fatalf("recipient %d of 5: %v", i+1, err)
		}
		rcpts = append(rcpts, r)
	}
	wantCode(t, c.Rcpt("r6@example.net", nil), 452, "4.5.3")
	w, _ := c.Data()
	io.WriteString(w, testMessage("five", "x"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 1 && slices.Equal(m[0].To, rcpts) }) {
		t.Fatalf("want one message to the 5 accepted recipients %v", rcpts)
	}
}

func TestBadAddressesAndLongLines(t *testing.T) {
	sink := startSink(t, devsink.Hooks{})
	g := start(t, testConfig(t, sink.Addr()), true)
	c := dial(t, addr(g, "relay"))
	wantCode(t, c.Mail("a@bad_domain.test", nil), 553, "5.1.7")
	if err := c.Mail("a@demo.test", nil); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.Rcpt("x@-bad.example", nil), 501, "5.1.3")
	wantCode(t, c.Rcpt("x@bad_domain..net", nil), 501, "5.1.3")

	rc := dialRaw(t, addr(g, "relay"))
	rc.write("EHLO client.test\r\n")
	rc.expect("250 ")
	rc.write("NOOP " + strings.Repeat("a", 3000) + "\r\n")
	rc.expect("500 5.")
	if _, err := rc.reply(); err == nil {
		t.Fatal("connection should be closed after an overlong line")
	}
}

func TestConnectionLimitPerIP(t *testing.T) {
	g, _ := startSinkGateway(t, true, func(cfg *config.Config) {
		cfg.SMTP.MaxConnectionsPerIP = 2
	})
	a := dialRaw(t, addr(g, "relay"))
	b := dialRaw(t, addr(g, "relay"))
	_ = a
	_ = b
	third := dialRawNoGreeting(t, addr(g, "relay"))
	third.expect("421 4.7.0")
	// Another address still gets in.
	other := dialFrom(t, "127.0.0.9", addr(g, "relay"))
	if err := other.Noop(); err != nil {
		t.Fatalf("a different client address must not be limited: %v", err)
	}
	// When one closes, a slot frees up (the release is asynchronous to our
	// close, so wait for it with a deadline).
	a.conn.Close()
	deadline := time.Now().Add(waitFor)
	for {
		rc := dialRawNoGreeting(t, addr(g, "relay"))
		l, _ := rc.reply()
		rc.conn.Close()
		if strings.HasPrefix(l, "220") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot never freed; last greeting %q", l)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A client that trickles its message slower than smtp.min_data_rate is cut
// off with 421 4.4.2.
func TestSlowDataIsCutOff(t *testing.T) {
	g, sink := startSinkGateway(t, true, func(cfg *config.Config) {
		cfg.SMTP.DataTimeout = config.D(300 * time.Millisecond) // longest pause between reads
	})
	rc := dialRaw(t, addr(g, "relay"))
	rc.write("EHLO client.test\r\n")
	rc.expect("250 ")
	rc.write("MAIL FROM:<a@demo.test>\r\nRCPT TO:<x@example.net>\r\nDATA\r\n")
	rc.expect("250")
	rc.expect("250")
	rc.expect("354")
	rc.write("Subject: slow\r\n\r\nstart") // then nothing more
	rc.expect("421 4.4.2")
	if sink.Count() != 0 {
		t.Fatal("a cut-off message was delivered")
	}
}

func TestConnectionLimitTotal(t *testing.T) {
	g, _ := startSinkGateway(t, true, func(cfg *config.Config) {
		cfg.SMTP.MaxConnections = 2
	})
	dialRaw(t, addr(g, "relay"))
	dialRaw(t, addr(g, "submission"))
	// The cap holds across listeners and client addresses.
	third := dialRawNoGreetingFrom(t, "127.0.0.7", addr(g, "submission"))
	third.expect("421 4.7.0")
}

// A client that goes quiet between commands is told so and disconnected,
// and so is one that stays past max_session_duration however busy it is.
func TestIdleAndSessionTimeouts(t *testing.T) {
	g, sink := startSinkGateway(t, true, func(cfg *config.Config) {
		cfg.SMTP.CommandTimeout = config.D(300 * time.Millisecond)
	})
	rc := dialRaw(t, addr(g, "relay"))
	rc.write("EHLO client.test\r\n")
	rc.expect("250 ")
	rc.expect("421 4.4.2") // then nothing: the idle timeout speaks first
	if _, err := rc.reply(); err == nil {
		t.Fatal("connection still open after the idle timeout")
	}

	cfg2 := testConfig(t, sink.Addr())
	cfg2.SMTP.MaxSessionDuration = config.D(500 * time.Millisecond)
	g2 := start(t, cfg2, true)
	busy := dialRaw(t, addr(g2, "relay"))
	deadline := time.Now().Add(waitFor)
	for {
		if _, err := busy.conn.Write([]byte("NOOP\r\n")); err != nil {
			break // closed by the session cap
		}
		if _, err := busy.reply(); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a busy session outlived max_session_duration by far")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

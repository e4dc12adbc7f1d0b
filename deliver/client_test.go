package deliver

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/textproto"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-mail/tollgate/certs"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/queue"
)

// The body is dot-stuffed so that a receiver's dot-unstuffing gives it back
// byte for byte, whatever the read sizes.
func TestWriteBodyDotStuffing(t *testing.T) {
	bodies := []string{
		"plain\r\n",
		".starts with a dot\r\n..two dots\r\nmid.dle\r\n.\r\n",
		"no final newline",
		"",
		strings.Repeat("line\r\n.dot\r\n", 10000),
	}
	for _, body := range bodies {
		var out bytes.Buffer
		c := &client{bw: bufio.NewWriter(&out), conn: nopConn{}, timeout: time.Second}
		if err := c.writeBody(iotestHalfReader(strings.NewReader(body))); err != nil {
			t.Fatal(err)
		}
		wire := out.String()
		got, err := io.ReadAll(textproto.NewReader(bufio.NewReader(&out)).DotReader())
		if err != nil {
			t.Fatal(err)
		}
		want := strings.ReplaceAll(body, "\r\n", "\n")
		if body != "" && !strings.HasSuffix(body, "\r\n") {
			want += "\n"
		}
		if string(got) != want {
			t.Fatalf("body %.40q came back as %.40q", body, got)
		}
		if !strings.HasSuffix(wire, "\r\n.\r\n") && wire != ".\r\n" {
			t.Fatalf("no end-of-data marker: %.40q", wire)
		}
	}
}

// iotestHalfReader returns at most 7 bytes per read, so dots and newlines
// straddle reads.
func iotestHalfReader(r io.Reader) io.Reader { return &smallReader{r} }

type smallReader struct{ r io.Reader }

func (s *smallReader) Read(p []byte) (int, error) {
	if len(p) > 7 {
		p = p[:7]
	}
	return s.r.Read(p)
}

type nopConn struct{ net.Conn }

func (nopConn) SetWriteDeadline(time.Time) error { return nil }
func (nopConn) SetReadDeadline(time.Time) error  { return nil }

func TestReadReply(t *testing.T) {
	cases := []struct {
		in       string
		code     int
		enhanced string
		text     string
		bad      bool
	}{
		{"250 2.0.0 OK\r\n", 250, "2.0.0", "OK", false},
		{"250-mx.example\r\n250-PIPELINING\r\n250 SIZE 100\r\n", 250, "", "mx.example; PIPELINING; SIZE 100", false},
		{"550-5.1.1 no such\r\n550 5.1.1 user\r\n", 550, "5.1.1", "no such; user", false},
		{"451 4.7.1\r\n", 451, "4.7.1", "", false},
		{"550 4.1.1 class mismatch\r\n", 550, "", "4.1.1 class mismatch", false},
		{"250\r\n", 250, "", "", false},
		{"25\r\n", 0, "", "", true},
		{"abc hello\r\n", 0, "", "", true},
		{"250-a\r\n451 b\r\n", 0, "", "", true},
		{"999 x\r\n", 0, "", "", true},
		{strings.Repeat("250-x\r\n", 200) + "250 y\r\n", 0, "", "", true},
	}
	for _, c := range cases {
		cl := &client{br: bufio.NewReader(strings.NewReader(c.in)), conn: nopConn{}, timeout: time.Second}
		r, err := cl.readReply()
		if c.bad {
			if err == nil {
				t.Errorf("%q: accepted as %+v", c.in, r)
			}
			continue
		}
		if err != nil || r.code != c.code || r.enhanced != c.enhanced || r.text != c.text {
			t.Errorf("%q: got %+v %v, want %d %q %q", c.in, r, err, c.code, c.enhanced, c.text)
		}
	}
}

func FuzzReadReply(f *testing.F) {
	f.Add("250 2.0.0 OK\r\n")
	f.Add("250-a\r\n250 b\r\n")
	f.Add("5")
	f.Fuzz(func(t *testing.T, in string) {
		cl := &client{br: bufio.NewReader(strings.NewReader(in)), conn: nopConn{}, timeout: time.Second}
		r, err := cl.readReply()
		if err == nil && (r.code < 200 || r.code > 599) {
			t.Fatalf("accepted code %d from %q", r.code, in)
		}
	})
}

func body(s string) *io.SectionReader {
	return io.NewSectionReader(strings.NewReader(s), 0, int64(len(s)))
}

func delivery(from string, rcpts ...string) *queue.Delivery {
	msg := "Subject: t\r\n\r\nhello\r\n"
	return &queue.Delivery{ID: "TEST", From: from, Rcpts: rcpts, Pool: "normal", Size: int64(len(msg)), Body: body(msg)}
}

func transport(t *testing.T, smarthost string, mod func(*Options)) *Transport {
	o := Options{Hostname: "gw.test", Smarthost: smarthost, ConnectTimeout: 5 * time.Second, CommandTimeout: 10 * time.Second,
		DataTimeout: 10 * time.Second, IdleTimeout: 5 * time.Second, MaxPerDestination: 4, MaxMessagesPerConn: 100}
	if mod != nil {
		mod(&o)
	}
	tr := New(o)
	t.Cleanup(tr.Close)
	return tr
}

// Opportunistic STARTTLS: offered, it is used; with require_tls a server
// without it gets nothing.
func TestStartTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := certs.SelfSigned(cert, key, "localhost"); err != nil {
		t.Fatal(err)
	}
	tc, err := certs.ServerConfig(cert, key, dir, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	withTLS, err := devsink.Start("127.0.0.1:0", "", tc, devsink.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer withTLS.Close()
	res := transport(t, withTLS.Addr(), nil).Deliver(context.Background(), delivery("a@x.test", "b@y.test"))
	if len(res) != 1 || !res[0].OK {
		t.Fatalf("delivery: %+v", res)
	}
	if m := withTLS.Messages(); len(m) != 1 || !m[0].TLS {
		t.Fatalf("message not sent over TLS: %+v", m)
	}

	plain, err := devsink.Start("127.0.0.1:0", "", nil, devsink.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	res = transport(t, plain.Addr(), func(o *Options) { o.RequireTLS = true }).Deliver(context.Background(), delivery("a@x.test", "b@y.test"))
	if res[0].OK || res[0].Permanent || !strings.Contains(res[0].Detail, "STARTTLS") {
		t.Fatalf("require_tls to a server without STARTTLS: %+v", res[0])
	}
	if plain.Count() != 0 {
		t.Fatal("delivered in the clear despite require_tls")
	}
}

// A server that does not offer PIPELINING gets one command at a time, and
// per-recipient answers are kept apart.
func TestWithoutPipelining(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		tp := textproto.NewConn(conn)
		tp.PrintfLine("220 old.example ESMTP")
		var data strings.Builder
		for {
			line, err := tp.ReadLine()
			if err != nil {
				return
			}
			// A pipelining client would have sent more: nothing may be
			// waiting now.
			if tp.R.Buffered() > 0 {
				tp.PrintfLine("554 5.5.0 pipelined without PIPELINING")
				return
			}
			switch cmd := strings.ToUpper(strings.Fields(line)[0]); cmd {
			case "EHLO":
				tp.PrintfLine("250-old.example")
				tp.PrintfLine("250 SIZE 1000000")
			case "MAIL":
				tp.PrintfLine("250 2.1.0 ok")
			case "RCPT":
				if strings.Contains(line, "bad@") {
					tp.PrintfLine("550 5.1.1 no such user")
				} else {
					tp.PrintfLine("250 2.1.5 ok")
				}
			case "DATA":
				tp.PrintfLine("354 go")
				b, _ := io.ReadAll(tp.DotReader())
				data.Write(b)
				tp.PrintfLine("250 2.0.0 queued as 42")
				got <- data.String()
			case "QUIT":
				tp.PrintfLine("221 bye")
				return
			default:
				tp.PrintfLine("250 ok")
			}
		}
	}()
	res := transport(t, ln.Addr().String(), nil).Deliver(context.Background(), delivery("a@x.test", "good@y.test", "bad@y.test"))
	if len(res) != 2 || !res[0].OK || res[1].OK || !res[1].Permanent || res[1].Code != "5.1.1" {
		t.Fatalf("results: %+v", res)
	}
	if !strings.Contains(res[0].Detail, "queued as 42") {
		t.Fatalf("the remote's 250 is not kept: %q", res[0].Detail)
	}
	select {
	case d := <-got:
		if !strings.Contains(d, "hello") {
			t.Fatalf("body %q", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server got no message")
	}
}

// A host that refuses connections is a temporary failure, and the next MX
// is tried.
func TestUnreachableIsTemporary(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	res := transport(t, addr, nil).Deliver(context.Background(), delivery("a@x.test", "b@y.test"))
	if res[0].OK || res[0].Permanent || res[0].Code != "4.4.1" {
		t.Fatalf("unreachable: %+v", res[0])
	}
}

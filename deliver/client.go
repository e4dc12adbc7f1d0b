package deliver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
)

// client is one SMTP connection to a next hop. It is Tollgate's own small
// client rather than go-smtp's, for three reasons that matter on the
// delivery path: it pipelines MAIL, RCPT and DATA (RFC 2920) in one round
// trip, it writes the body through a 64 KiB buffer with dot-stuffing done a
// line at a time rather than a byte at a time, and it upgrades to TLS right
// after EHLO (go-smtp's client exports no STARTTLS after Hello).
type client struct {
	conn    net.Conn
	br      *bufio.Reader
	bw      *bufio.Writer
	ext     map[string]string // EHLO keywords (upper case) and their parameters
	tls     bool
	host    string // remote host name, for results
	key     string // cache key: pool|host:port
	used    int
	idleAt  time.Time
	timeout time.Duration // per command
}

// reply is a parsed SMTP reply.
type reply struct {
	code     int
	enhanced string // "5.1.1", or "" when the server gave none
	text     string // the text of all lines, joined with "; "
}

func (r reply) String() string {
	if r.enhanced != "" {
		return fmt.Sprintf("%d %s %s", r.code, r.enhanced, r.text)
	}
	return fmt.Sprintf("%d %s", r.code, r.text)
}

// maxReplyLines bounds what a hostile server can make us read.
const maxReplyLines = 100

func (c *client) readReply() (reply, error) {
	c.conn.SetReadDeadline(time.Now().Add(c.timeout))
	var r reply
	var texts []string
	for i := 0; ; i++ {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			if err == bufio.ErrBufferFull {
				return r, errors.New("reply line too long")
			}
			return r, err
		}
		l := strings.TrimRight(string(line), "\r\n")
		if len(l) < 3 || i >= maxReplyLines {
			return r, fmt.Errorf("malformed reply %q", l)
		}
		code, err := strconv.Atoi(l[:3])
		if err != nil || code < 200 || code > 599 || (r.code != 0 && code != r.code) {
			return r, fmt.Errorf("malformed reply %q", l)
		}
		r.code = code
		more := len(l) > 3 && l[3] == '-'
		text := ""
		if len(l) > 4 {
			text = l[4:]
		}
		if i == 0 {
			if ec, rest, ok := cutEnhanced(text, code); ok {
				r.enhanced, text = ec, rest
			}
		} else if r.enhanced != "" {
			text = strings.TrimPrefix(text, r.enhanced+" ")
		}
		texts = append(texts, text)
		if !more {
			break
		}
	}
	r.text = strings.Join(texts, "; ")
	return r, nil
}

// cutEnhanced splits an RFC 3463 code off the front of a reply text; its
// class must match the reply's.
func cutEnhanced(text string, code int) (string, string, bool) {
	ec, rest, _ := strings.Cut(text, " ")
	parts := strings.Split(ec, ".")
	if len(parts) != 3 || strconv.Itoa(code/100) != parts[0] {
		return "", text, false
	}
	for _, p := range parts[1:] {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 999 {
			return "", text, false
		}
	}
	return ec, rest, true
}

func (c *client) write(format string, args ...any) {
	fmt.Fprintf(c.bw, format, args...)
	c.bw.WriteString("\r\n")
}

func (c *client) flush() error {
	c.conn.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.bw.Flush()
}

// command sends one command and reads its reply.
func (c *client) command(format string, args ...any) (reply, error) {
	c.write(format, args...)
	if err := c.flush(); err != nil {
		return reply{}, err
	}
	return c.readReply()
}

func (c *client) close() { c.conn.Close() }

// quit says goodbye politely, with a short deadline, and closes.
func (c *client) quit() {
	c.conn.SetDeadline(time.Now().Add(5 * time.Second))
	c.write("QUIT")
	if c.bw.Flush() == nil {
		c.readReply()
	}
	c.conn.Close()
}

// dial connects to hostport from the pool's source address, reads the
// greeting, says EHLO and upgrades to TLS when the server offers STARTTLS.
// Every address it connects to is first vetted by the next-hop guard
// (see dialGuard); a dial whose every address was refused returns the
// *nexthop.Refusal.
func (t *Transport) dial(ctx context.Context, hostport string, pool policy.Pool) (*client, error) {
	host, _, _ := net.SplitHostPort(hostport)
	g := &dialGuard{guard: t.guard, enforce: t.opts.Smarthost == "", host: host, onConnect: t.opts.OnConnect}
	d := net.Dialer{Timeout: t.opts.ConnectTimeout, LocalAddr: t.sourceAddr(pool), Resolver: t.resolver, Control: g.control}
	conn, err := d.DialContext(ctx, "tcp", hostport)
	if err != nil {
		if r := g.refusal(); r != nil {
			return nil, r
		}
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c := &client{host: host, timeout: t.opts.CommandTimeout}
	c.setConn(conn)
	fail := func(stage string, err error) (*client, error) {
		conn.Close()
		return nil, fmt.Errorf("%s: %w", stage, err)
	}
	c.timeout = t.opts.ConnectTimeout
	r, err := c.readReply()
	if err != nil {
		return fail("greeting", err)
	}
	c.timeout = t.opts.CommandTimeout
	if r.code != 220 {
		return fail("greeting", errors.New(r.String()))
	}
	if err := c.hello(t.opts.Hostname); err != nil {
		return fail("EHLO", err)
	}
	if _, ok := c.ext["STARTTLS"]; ok {
		r, err := c.command("STARTTLS")
		if err != nil {
			return fail("STARTTLS", err)
		}
		if r.code != 220 {
			return fail("STARTTLS", errors.New(r.String()))
		}
		tc := tls.Client(conn, &tls.Config{ServerName: host, InsecureSkipVerify: !t.opts.VerifyTLS, MinVersion: tls.VersionTLS12})
		tc.SetDeadline(time.Now().Add(t.opts.ConnectTimeout))
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail("TLS handshake", err)
		}
		tc.SetDeadline(time.Time{})
		c.setConn(tc)
		c.tls = true
		if err := c.hello(t.opts.Hostname); err != nil {
			return fail("EHLO after STARTTLS", err)
		}
	} else if t.opts.RequireTLS {
		return fail("STARTTLS", errors.New("server does not offer STARTTLS and delivery.require_tls is set"))
	}
	return c, nil
}

func (c *client) setConn(conn net.Conn) {
	c.conn = conn
	c.br = bufio.NewReaderSize(conn, 4096)
	c.bw = bufio.NewWriterSize(conn, 64<<10)
}

// hello sends EHLO (HELO if the server refuses it) and records the
// extensions.
func (c *client) hello(name string) error {
	r, err := c.command("EHLO %s", name)
	if err != nil {
		return err
	}
	c.ext = map[string]string{}
	if r.code != 250 {
		if r, err = c.command("HELO %s", name); err != nil {
			return err
		}
		if r.code != 250 {
			return errors.New(r.String())
		}
		return nil
	}
	lines := strings.Split(r.text, "; ")
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, " ")
		c.ext[strings.ToUpper(k)] = v
	}
	return nil
}

// writeBody writes a message body with dot-stuffing and the final ".". The
// spooled body has CRLF line endings only (the front end refuses bare CR and
// LF), so a line starts exactly after "\n".
func (c *client) writeBody(r io.Reader) error {
	buf := make([]byte, 32<<10)
	atStart, endsCRLF, empty := true, false, true
	for {
		n, err := r.Read(buf)
		chunk := buf[:n]
		for len(chunk) > 0 {
			if atStart && chunk[0] == '.' {
				c.bw.WriteByte('.')
			}
			i := bytes.IndexByte(chunk, '\n')
			if i < 0 {
				c.bw.Write(chunk)
				atStart = false
				break
			}
			c.bw.Write(chunk[:i+1])
			chunk = chunk[i+1:]
			atStart = true
		}
		if n > 0 {
			endsCRLF, empty = buf[n-1] == '\n', false
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if !endsCRLF && !empty {
		c.bw.WriteString("\r\n")
	}
	c.bw.WriteString(".\r\n")
	return c.flush()
}

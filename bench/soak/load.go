package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// accepted is one message that got its 250 after DATA: what the sender now
// expects the fleet to deliver.
type accepted struct {
	token  string
	tenant *tenant
	rcpts  []string // the recipients the gateway accepted at RCPT
	mailAt time.Time
	at     time.Time // the 250
	lat    time.Duration
	node   int
}

// ledger is the load generator's record: every accepted message and every
// reply, per second, for the per-fault report.
type ledger struct {
	start time.Time
	mu    sync.Mutex
	acc   []accepted
	// replies[second][kind|class] counts the senders' outcomes: "250", an SMTP
	// code with its enhanced code ("451 4.3.0"), or a connection failure.
	replies map[int]map[string]int
	// longest[second] is the longest an ordinary sender waited for a
	// transaction's last reply (250 or not), by the second it ended.
	longest map[int]time.Duration
	seq     atomic.Int64
}

func newLedger() *ledger {
	return &ledger{start: time.Now(), replies: map[int]map[string]int{}, longest: map[int]time.Duration{}}
}

func (l *ledger) reply(kind, class string) {
	s := int(time.Since(l.start) / time.Second)
	l.mu.Lock()
	m := l.replies[s]
	if m == nil {
		m = map[string]int{}
		l.replies[s] = m
	}
	m[kind+"|"+class]++
	l.mu.Unlock()
}

func (l *ledger) waited(kind string, d time.Duration) {
	if kind != kindConnector && kind != kindAuth {
		return
	}
	s := int(time.Since(l.start) / time.Second)
	l.mu.Lock()
	l.longest[s] = max(l.longest[s], d)
	l.mu.Unlock()
}

func (l *ledger) accept(a accepted) {
	l.mu.Lock()
	l.acc = append(l.acc, a)
	l.mu.Unlock()
	l.reply(a.tenant.kind, "250")
}

func (l *ledger) token() string {
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%d-%s", l.seq.Add(1), hex.EncodeToString(b))
}

// classify names an SMTP outcome for the reply counts.
func classify(err error) string {
	var se *smtp.SMTPError
	switch {
	case err == nil:
		return "250"
	case errors.As(err, &se):
		if se.EnhancedCode != (smtp.EnhancedCode{}) && se.EnhancedCode != smtp.NoEnhancedCode {
			return fmt.Sprintf("%d %d.%d.%d", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
		}
		return fmt.Sprint(se.Code)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection closed"
	default:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return "timeout"
		}
		return "other error"
	}
}

func temporary(err error) bool {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code >= 400 && se.Code < 500
	}
	return err != nil // connection trouble: the message was not accepted; retry
}

func randN(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}

// loader drives the tenants' senders against the fleet.
type loader struct {
	nodes []*node
	led   *ledger
	rr    atomic.Int64
}

// outgoing is one message a sender wants sent, kept across 4xx retries.
type outgoing struct {
	token    string
	from     string
	rcpts    []string
	body     string
	attempts int
}

// dial opens a session on some node, round robin, as a client behind a
// load balancer or with several MX hosts does; a node that refuses the
// connection is skipped for the next.
func (ld *loader) dial(t *tenant, user string) (*smtp.Client, int, error) {
	var lastErr error
	for range ld.nodes {
		i := int(ld.rr.Add(1)) % len(ld.nodes)
		n := ld.nodes[i]
		var c *smtp.Client
		var err error
		if user != "" {
			c, err = dialAuth(n.submit, user)
		} else {
			c, err = dialFrom(t.source, n.relay)
		}
		if err == nil {
			return c, i, nil
		}
		ld.led.reply(t.kind, classify(err))
		lastErr = err
	}
	return nil, 0, lastErr
}

func dialFrom(source, addr string) (*smtp.Client, error) {
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := smtp.NewClient(conn)
	c.CommandTimeout, c.SubmissionTimeout = 30*time.Second, 30*time.Second
	if err := c.Hello("mx." + source + ".soak.test"); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func dialAuth(addr, user string) (*smtp.Client, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))                            // the greeting and STARTTLS; cleared below
	c, err := smtp.NewClientStartTLS(conn, &tls.Config{InsecureSkipVerify: true}) // the node's self-signed certificate
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	c.CommandTimeout, c.SubmissionTimeout = 30*time.Second, 30*time.Second
	if err := c.Auth(sasl.NewPlainClient("", user, userPassword)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// send makes one attempt at m on c. It returns the accepted recipients and
// the error of the transaction (nil: 250 after DATA).
func (ld *loader) send(c *smtp.Client, m *outgoing) ([]string, time.Time, time.Duration, error) {
	mailAt := time.Now()
	if err := c.Mail(m.from, nil); err != nil {
		return nil, mailAt, 0, err
	}
	var ok []string
	var rcptErr error
	for _, r := range m.rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			if rcptErr == nil || temporary(err) {
				rcptErr = err
			}
			continue
		}
		ok = append(ok, r)
	}
	if len(ok) < len(m.rcpts) && temporary(rcptErr) || len(ok) == 0 {
		// Some recipient deferred: keep the whole message for the retry
		// (as an MTA would for those recipients), send nothing now.
		c.Reset()
		return nil, mailAt, 0, rcptErr
	}
	w, err := c.Data()
	if err != nil {
		return nil, mailAt, 0, err
	}
	if _, err := io.WriteString(w, m.body); err != nil {
		return nil, mailAt, 0, err
	}
	t := time.Now()
	err = w.Close()
	return ok, mailAt, time.Since(t), err
}

// sender runs one sender of tenant t until ctx ends: make messages with
// next, send them pace apart, keep 4xx ones for up to maxAttempts.
func (ld *loader) sender(ctx context.Context, t *tenant, user string, pace time.Duration, maxAttempts int, next func(token string) *outgoing) {
	var retry []*outgoing
	var c *smtp.Client
	node := 0
	defer func() {
		if c != nil {
			c.Quit()
		}
	}()
	sent := 0
	for ctx.Err() == nil {
		var m *outgoing
		if len(retry) > 0 && (len(retry) > 20 || randN(2) == 0) {
			m, retry = retry[0], retry[1:]
		} else {
			m = next(ld.led.token())
		}
		m.attempts++
		if c == nil {
			var err error
			if c, node, err = ld.dial(t, user); err != nil {
				c = nil
				if m.attempts < maxAttempts {
					retry = append(retry, m)
				}
				sleep(ctx, time.Second)
				continue
			}
			sent = 0
		}
		ok, mailAt, lat, err := ld.send(c, m)
		ld.led.waited(t.kind, time.Since(mailAt))
		switch {
		case err == nil:
			ld.led.accept(accepted{token: m.token, tenant: t, rcpts: ok, mailAt: mailAt, at: time.Now(), lat: lat, node: node})
		case temporary(err) && m.attempts < maxAttempts:
			ld.led.reply(t.kind, classify(err))
			retry = append(retry, m)
		default:
			ld.led.reply(t.kind, classify(err))
		}
		sent++
		var se *smtp.SMTPError
		if err != nil && !errors.As(err, &se) || se != nil && se.Code == 421 || sent >= 1+randN(5) {
			// A broken session, or this client's habit: a few messages
			// per connection, then a new one (perhaps on another node).
			c.Quit()
			c.Close()
			c = nil
		}
		sleep(ctx, pace/2+time.Duration(randN(int(pace))))
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// Message makers, one per kind of sender.

func body(token, from, subject, extra, text string) string {
	return fmt.Sprintf("From: %s\r\nTo: undisclosed-recipients:;\r\nSubject: %s\r\nMessage-ID: <%s@soak.test>\r\n%s: %s\r\n%sDate: %s\r\n\r\n%s\r\n",
		from, subject, token, TokenHeader, token, extra, time.Now().UTC().Format(time.RFC1123Z), text)
}

const ordinaryText = "Hello,\r\n\r\nplease find the minutes of Tuesday's project meeting below. We agreed to move\r\n" +
	"the review to next week and Maria will send the updated schedule.\r\n\r\nBest regards,\r\nThe project team\r\n"

// ordinaryMessage goes to one to three recipients, now and then one the
// sink defers once (3 %) or refuses (1 %).
func ordinaryMessage(from string) func(string) *outgoing {
	return func(token string) *outgoing {
		n := 1 + randN(3)
		var rcpts []string
		for i := 0; i < n; i++ {
			switch p := randN(100); {
			case p < 1:
				rcpts = append(rcpts, fmt.Sprintf("%s%s.%d@%s", rejectPrefix, token, i, externalDomain))
			case p < 4:
				rcpts = append(rcpts, fmt.Sprintf("%s%s.%d@%s", tempfailPrefix, token, i, externalDomain))
			default:
				rcpts = append(rcpts, fmt.Sprintf("colleague%d@%s", randN(300), externalDomain))
			}
		}
		rcpts = dedupe(rcpts)
		return &outgoing{token: token, from: from, rcpts: rcpts, body: body(token, from, "Minutes "+token, "", ordinaryText)}
	}
}

func dedupe(l []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func limitedMessage(from string) func(string) *outgoing {
	return func(token string) *outgoing {
		rcpt := fmt.Sprintf("orders%d@%s", randN(50), externalDomain)
		return &outgoing{token: token, from: from, rcpts: []string{rcpt}, body: body(token, from, "Order confirmation "+token, "", ordinaryText)}
	}
}

const spamText = "CONGRATULATIONS!!! You have WON $1,000,000 USD cash prize!!! Claim your FREE prize now,\r\n" +
	"click here http://free-prize-winner.example/claim?id=1 and send your bank account details.\r\n" +
	"Cheap viagra, casino bonus, bitcoin investment guaranteed 1000% profit. Act now, limited time offer!!!\r\n"

// spamMessage sprays five strangers at a time, the compromised tenant's
// mail.
func spamMessage(from string) func(string) *outgoing {
	return func(token string) *outgoing {
		var rcpts []string
		for i := 0; i < 5; i++ {
			rcpts = append(rcpts, fmt.Sprintf("victim.%s.%d@%s", token, i, externalDomain))
		}
		return &outgoing{token: token, from: from, rcpts: rcpts, body: body(token, from, "You have WON!!! "+token, "", spamText)}
	}
}

// listMessage is one post of a mailing list to its 40 subscribers.
func listMessage(from string) func(string) *outgoing {
	return func(token string) *outgoing {
		var rcpts []string
		for i := 0; i < 40; i++ {
			rcpts = append(rcpts, fmt.Sprintf("subscriber%d@%s", i, externalDomain))
		}
		extra := "List-Id: Soak news <news.list.soak.test>\r\nList-Unsubscribe: <mailto:unsubscribe@list.soak.test>\r\nPrecedence: list\r\n"
		return &outgoing{token: token, from: from, rcpts: rcpts, body: body(token, from, "[news] Weekly digest "+token, extra,
			strings.Repeat("This week in the project: releases, meetings and notes from the community.\r\n", 20))}
	}
}

package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// TokenHeader carries each message's unique token, by which the sink counts
// arrivals; a DSN quotes the original's header, so a bounce names it too.
const TokenHeader = "X-Soak-Token"

// Recipients whose local part starts with these prefixes get scripted
// answers from the sink: tempfail ones a 451 on their first attempt (the
// gateway must retry and deliver them once), reject ones a 550 on every
// attempt (the gateway must bounce them to the sender).
const (
	tempfailPrefix = "tempfail."
	rejectPrefix   = "reject."
)

// arrival is one delivery of one recipient of one token.
type arrival struct {
	at   time.Time
	node string // the delivering node, by its source address
}

// sink is the next hop of every node: it counts each (token, recipient)
// delivery and each DSN by the token it quotes, keeping no message bodies.
type sink struct {
	ln  net.Listener
	srv *smtp.Server

	mu       sync.Mutex
	arrivals map[string][]arrival // token + " " + recipient
	dsns     map[string]int       // token → DSNs naming it
	tempfail map[string]bool      // recipients already deferred once
	total    int
}

func startSink() (*sink, error) {
	s := &sink{arrivals: map[string][]arrival{}, dsns: map[string]int{}, tempfail: map[string]bool{}}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		host, _, _ := net.SplitHostPort(c.Conn().RemoteAddr().String())
		return &sinkSession{s: s, node: host}, nil
	}))
	s.srv.Domain = "sink.soak.test"
	s.srv.MaxMessageBytes = 8 << 20
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	s.srv.MaxRecipients = 1000
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.ln = ln
	go s.srv.Serve(ln)
	return s, nil
}

func (s *sink) addr() string { return s.ln.Addr().String() }
func (s *sink) close()       { s.srv.Close() }

// count is the number of deliveries of recipient rcpt of token.
func (s *sink) arrived(token, rcpt string) []arrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.arrivals[token+" "+strings.ToLower(rcpt)]
}

func (s *sink) dsnCount(token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dsns[token]
}

func (s *sink) snapshot() (map[string][]arrival, map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := make(map[string][]arrival, len(s.arrivals))
	for k, v := range s.arrivals {
		a[k] = append([]arrival(nil), v...)
	}
	d := make(map[string]int, len(s.dsns))
	for k, v := range s.dsns {
		d[k] = v
	}
	return a, d
}

type sinkSession struct {
	s    *sink
	node string
	from string
	to   []string
}

func (ss *sinkSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *sinkSession) Logout() error { return nil }
func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	local := strings.ToLower(to)
	switch {
	case strings.HasPrefix(local, rejectPrefix):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "soak sink: no such user"}
	case strings.HasPrefix(local, tempfailPrefix):
		ss.s.mu.Lock()
		seen := ss.s.tempfail[local]
		ss.s.tempfail[local] = true
		ss.s.mu.Unlock()
		if !seen {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "soak sink: try again later"}
		}
	}
	ss.to = append(ss.to, local)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	token := headerToken(b)
	if token == "" {
		return errors.New("soak sink: message without a token")
	}
	now := time.Now()
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	ss.s.total++
	if ss.from == "" {
		// A DSN: count it against the original it quotes.
		ss.s.dsns[token]++
		return nil
	}
	for _, to := range ss.to {
		k := token + " " + to
		ss.s.arrivals[k] = append(ss.s.arrivals[k], arrival{at: now, node: ss.node})
	}
	return nil
}

// headerToken finds the token header anywhere in the message: in the
// header of an original, or in the quoted header inside a DSN.
func headerToken(b []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	prefix := strings.ToLower(TokenHeader) + ":"
	for sc.Scan() {
		line := sc.Text()
		if len(line) > len(prefix) && strings.ToLower(line[:len(prefix)]) == prefix {
			return strings.TrimSpace(line[len(prefix):])
		}
	}
	return ""
}

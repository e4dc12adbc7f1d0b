// Package devsink is the capture sink of `tollgate serve --dev`: a small SMTP
// server on loopback that keeps every message it receives on disk, so a new
// user can see what Tollgate relayed without a real next hop. Tests use it as
// the receiving end too; its hooks let them script 4xx and 5xx answers.
package devsink

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"bufio"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode encoded words in the charsets real mail uses
	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-smtp"
)

// Message is one captured message.
type Message struct {
	ID string `json:"id"`
	// From and To are the paths' mailboxes exactly as the sink received
	// them: a quoted local part keeps its quotes.
	From       string    `json:"from"`
	To         []string  `json:"to"`
	Subject    string    `json:"subject"`
	MessageID  string    `json:"message_id"`
	Size       int       `json:"size"`
	ReceivedAt time.Time `json:"received_at"`
	TLS        bool      `json:"tls"`
	Client     string    `json:"client"`
	Path       string    `json:"path,omitempty"` // the .eml file, when kept on disk
	Data       []byte    `json:"-"`
	// MailOptions and RcptOptions are the ESMTP parameters the sink
	// parsed from MAIL FROM and from each RCPT TO, so a test can tell an
	// address from a parameter injected behind it (AUTH=, NOTIFY=).
	MailOptions *smtp.MailOptions   `json:"-"`
	RcptOptions []*smtp.RcptOptions `json:"-"`
}

// Hooks script the sink's answers. A nil hook accepts.
type Hooks struct {
	Rcpt func(rcpt string) error // answer to RCPT TO
	Data func(m *Message) error  // answer at the end of DATA
}

// Sink is a running capture sink.
type Sink struct {
	dir   string // "" keeps messages in memory only
	srv   *smtp.Server
	ln    net.Listener
	mu    sync.Mutex
	msgs  []*Message
	seq   int
	hooks Hooks
	cond  chan struct{}
}

// Start listens on addr (e.g. "127.0.0.1:0") and keeps messages in dir (or
// in memory if dir is ""). tlsConfig, if not nil, enables STARTTLS.
func Start(addr, dir string, tlsConfig *tls.Config, hooks Hooks) (*Sink, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("devsink: %w", err)
		}
	}
	s := &Sink{dir: dir, hooks: hooks, cond: make(chan struct{})}
	if dir != "" {
		if err := s.load(); err != nil {
			return nil, err
		}
	}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{s: s, tls: isTLS, client: c.Conn().RemoteAddr().String()}, nil
	}))
	s.srv.Domain = "devsink.localhost"
	s.srv.TLSConfig = tlsConfig
	s.srv.MaxMessageBytes = 64 << 20
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	s.srv.EnableSMTPUTF8 = true
	s.srv.EnableDSN = true
	s.srv.RawPaths = true
	s.srv.ErrorLog = nopLog{}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("devsink: listen %s: %w", addr, err)
	}
	s.ln = ln
	go s.srv.Serve(ln)
	return s, nil
}

// Addr is the sink's listening address.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Close stops the sink.
func (s *Sink) Close() error { return s.srv.Close() }

// SetHooks replaces the hooks.
func (s *Sink) SetHooks(h Hooks) {
	s.mu.Lock()
	s.hooks = h
	s.mu.Unlock()
}

// Messages returns the captured messages, oldest first.
func (s *Sink) Messages() []*Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Message(nil), s.msgs...)
}

// Count is the number of captured messages.
func (s *Sink) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// Wait blocks until pred holds for the captured messages or the deadline
// passes; it returns whether pred held.
func (s *Sink) Wait(timeout time.Duration, pred func([]*Message) bool) bool {
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		ok := pred(s.msgs)
		ch := s.cond
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline:
			return false
		}
	}
}

func (s *Sink) add(m *Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	m.ID = fmt.Sprintf("%s-%06d", m.ReceivedAt.UTC().Format("20060102T150405"), s.seq)
	if s.dir != "" {
		m.Path = filepath.Join(s.dir, m.ID+".eml")
		if err := os.WriteFile(m.Path, m.Data, 0o600); err != nil {
			return err
		}
		meta, _ := json.Marshal(m)
		if err := os.WriteFile(filepath.Join(s.dir, m.ID+".json"), meta, 0o600); err != nil {
			return err
		}
		m.Data = nil // on disk; don't hold it in memory too
	}
	s.msgs = append(s.msgs, m)
	close(s.cond)
	s.cond = make(chan struct{})
	return nil
}

// load reads what an earlier run captured.
func (s *Sink) load() error {
	files, err := filepath.Glob(filepath.Join(s.dir, "*.json"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("devsink: %w", err)
		}
		var m Message
		if err := json.Unmarshal(b, &m); err != nil {
			continue // a torn file from a crash: skip it
		}
		s.msgs = append(s.msgs, &m)
		s.seq++
	}
	return nil
}

type session struct {
	s      *Sink
	tls    bool
	client string
	from   string
	to     []string
	mail   *smtp.MailOptions
	rcpt   []*smtp.RcptOptions
}

func (ss *session) Reset()        { ss.from, ss.to, ss.mail, ss.rcpt = "", nil, nil, nil }
func (ss *session) Logout() error { return nil }
func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	ss.from, ss.mail = from, opts
	return nil
}

func (ss *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	h := ss.s.hooks.Rcpt
	ss.s.mu.Unlock()
	if h != nil {
		if err := h(to); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	ss.rcpt = append(ss.rcpt, opts)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := &Message{From: ss.from, To: ss.to, Size: len(b), ReceivedAt: time.Now(), TLS: ss.tls, Client: ss.client, Data: b,
		MailOptions: ss.mail, RcptOptions: ss.rcpt}
	if h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(b))); err == nil {
		m.Subject, m.MessageID = h.Get("Subject"), strings.TrimSpace(h.Get("Message-Id"))
		if decoded, err := (&message.Header{Header: h}).Text("Subject"); err == nil {
			m.Subject = decoded // RFC 2047 encoded words, as a person reads them
		}
	}
	ss.s.mu.Lock()
	hook := ss.s.hooks.Data
	ss.s.mu.Unlock()
	if hook != nil {
		if err := hook(m); err != nil {
			return err
		}
	}
	if err := ss.s.add(m); err != nil {
		return errors.New("sink could not store the message")
	}
	return nil
}

type nopLog struct{}

func (nopLog) Printf(string, ...any) {}
func (nopLog) Println(...any)        {}

package dryrun

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/trace"
)

// transaction is one mail transaction read back from the trace: who sent
// it, its envelope, what the checks saw of its content and what the gateway
// answered.
type transaction struct {
	at    time.Time
	env   policy.Envelope
	rcpts []string // the recipients the gateway accepted
	msg   policy.Message
	// reachedData: the checks judged the content, so the verdict is known.
	reachedData bool
	actual      answer
}

// answer is what the gateway said to a transaction: accepted, or refused
// with a code by a rule.
type answer struct {
	refused  bool
	stage    string
	code     string // the enhanced code, "5.7.705"
	rule     string
	text     string
	accepted int // recipients accepted
	figures  []policy.Figure
}

// stops reports whether the answer stops the tenant or its sender: the
// tenant block and the restrictions.
func (a answer) stops() bool {
	return a.refused && (a.code == "5.7.705" || a.code == "5.7.711" || a.code == "5.1.8")
}

// codeOf is the enhanced code in a trace detail ("550 5.7.705 Access …").
func codeOf(detail string) string {
	f := strings.Fields(detail)
	if len(f) >= 2 && strings.Count(f[1], ".") == 2 {
		return f[1]
	}
	return ""
}

// session is what a session's events have said so far.
type session struct {
	attr   policy.Attribution
	client netip.Addr
	listen policy.Listener
	cur    *transaction // the open transaction, after MAIL
}

// assembler turns events, oldest first, into transactions.
type assembler struct {
	sessions map[string]*session
	emit     func(transaction) error
}

func newAssembler(emit func(transaction) error) *assembler {
	return &assembler{sessions: map[string]*session{}, emit: emit}
}

func id(attrs map[string]string, k string) int64 {
	n, _ := strconv.ParseInt(attrs[k], 10, 64)
	return n
}

// add takes one event. A transaction ends with its data decision, or when
// the next MAIL of the session (or the end of the replay) finds it open:
// then it was refused at MAIL or RCPT, or the client gave up.
func (a *assembler) add(e trace.Entry) error {
	if e.Session == "" || e.Rule == "feedback" {
		return nil // queue and delivery events; the feedback address
	}
	s := a.sessions[e.Session]
	if s == nil {
		if len(a.sessions) >= maxSessions {
			a.forgetIdle()
		}
		s = &session{}
		a.sessions[e.Session] = s
	}
	if ip, err := netip.ParseAddr(e.Attrs["client_ip"]); err == nil {
		s.client = ip
	}
	s.listen = policy.Listener(e.Attrs["listener"])
	switch e.Stage {
	case "connect":
		s.attr = policy.Attribution{TenantID: e.TenantID, Tenant: e.Attrs["tenant"], Method: policy.Method(e.Attrs["attribution"]),
			ConnectorID: id(e.Attrs, "connector_id"), Connector: e.Attrs["connector"]}
	case "auth":
		if e.Outcome == "accept" {
			s.attr = policy.Attribution{TenantID: e.TenantID, Tenant: e.Attrs["tenant"], Method: policy.MethodAuth,
				UserID: id(e.Attrs, "user_id"), User: e.Attrs["user"], AppPasswordID: id(e.Attrs, "app_password_id")}
		}
	case "mail":
		if err := a.flush(s); err != nil {
			return err
		}
		if s.attr.TenantID == 0 { // a session whose connect event predates the replay's start
			s.attr = policy.Attribution{TenantID: e.TenantID, Tenant: e.Attrs["tenant"]}
		}
		attr := s.attr
		attr.ClientIP = s.client
		t := &transaction{at: e.At, env: policy.Envelope{Attribution: attr, Listener: s.listen, From: e.Sender}}
		if e.Sender == "" {
			t.env.From = e.Attrs["from"]
		}
		if e.Outcome != "accept" {
			t.actual = answer{refused: true, stage: "mail", code: codeOf(e.Detail), rule: e.Rule, text: e.Detail}
		}
		s.cur = t
		if t.actual.refused {
			return a.flush(s)
		}
	case "rcpt":
		t := s.cur
		if t == nil {
			return nil
		}
		rcpt := e.Rcpt
		if rcpt == "" {
			rcpt = e.Attrs["rcpt"]
		}
		t.env.Rcpts = append(t.env.Rcpts, rcpt)
		if e.Outcome == "accept" {
			t.rcpts = append(t.rcpts, rcpt)
			t.actual.accepted++
		} else if !t.actual.refused || t.actual.stage == "rcpt" {
			// The first refused recipient says why, unless one was accepted.
			if t.actual.code == "" {
				t.actual = answer{refused: true, stage: "rcpt", code: codeOf(e.Detail), rule: e.Rule, text: e.Detail, accepted: t.actual.accepted}
			}
		}
	case "data":
		t := s.cur
		if t == nil {
			return nil
		}
		t.at = e.At
		t.reachedData = true
		score, _ := strconv.ParseFloat(e.Attrs["score"], 64)
		size, _ := strconv.ParseInt(e.Attrs["size"], 10, 64)
		t.msg = policy.Message{Size: size, MessageID: e.MessageID, Subject: e.Attrs["subject"],
			HeaderFrom: e.Attrs["header_from"], HeaderSender: e.Attrs["header_sender"], ListMail: e.Attrs["list"] == "true",
			Verdict: policy.Verdict{Class: policy.Class(e.Attrs["verdict"]), Score: score, IsBulk: e.Attrs["is_bulk"] == "true",
				Fingerprint: e.Attrs["fingerprint"]}}
		if e.MessageID == "" {
			t.msg.MessageID = e.Attrs["message_id"]
		}
		accepted := len(t.rcpts)
		if e.Outcome == "accept" {
			t.actual = answer{accepted: accepted}
		} else {
			t.actual = answer{refused: true, stage: "data", code: codeOf(e.Detail), rule: e.Rule, text: e.Detail, accepted: accepted}
		}
		return a.flush(s)
	}
	return nil
}

// flush emits the session's open transaction, if any.
func (a *assembler) flush(s *session) error {
	t := s.cur
	s.cur = nil
	if t == nil {
		return nil
	}
	if !t.reachedData && !t.actual.refused {
		if len(t.env.Rcpts) == 0 {
			return nil // MAIL then RSET or QUIT: nothing was tried
		}
		t.actual = answer{refused: true, stage: "rcpt", text: "the client ended the transaction before DATA", accepted: len(t.rcpts)}
	}
	return a.emit(*t)
}

// maxSessions bounds the sessions remembered at once: past it, those with
// no open transaction are forgotten (a later MAIL of one is attributed by
// its event's tenant alone).
const maxSessions = 100_000

func (a *assembler) forgetIdle() {
	for k, s := range a.sessions {
		if s.cur == nil {
			delete(a.sessions, k)
		}
	}
}

// finish emits every transaction still open, oldest first.
func (a *assembler) finish() error {
	var open []*session
	for _, s := range a.sessions {
		if s.cur != nil {
			open = append(open, s)
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].cur.at.Before(open[j].cur.at) })
	for _, s := range open {
		if err := a.flush(s); err != nil {
			return err
		}
	}
	return nil
}

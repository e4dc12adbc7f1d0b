package deliver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/tollgate-mail/tollgate/address"
	"github.com/tollgate-mail/tollgate/nexthop"
	"github.com/tollgate-mail/tollgate/queue"
)

// transact runs one SMTP transaction for rcpts on hostport. retryNext says
// the host could not be reached or spoke no SMTP, so the next MX host may be
// tried; any SMTP reply is final for this attempt. internal says the host
// was not dialled at all: every address it has is internal or reserved.
func (t *Transport) transact(ctx context.Context, d *queue.Delivery, hostport string, rcpts []string) (res []queue.Result, retryNext, internal bool) {
	key := string(d.Pool) + "|" + hostport
	for try := 0; ; try++ {
		cl, cached := t.cache.get(key), true
		if cl == nil {
			var err error
			cl, err = t.dial(ctx, hostport, d.Pool)
			if r := (*nexthop.Refusal)(nil); errors.As(err, &r) {
				return allResults(rcpts, queue.Result{Permanent: true, Code: InternalCode, Detail: refusedDetail(r)}), true, true
			}
			if err != nil {
				host, _, _ := net.SplitHostPort(hostport)
				return allResults(rcpts, queue.Result{Code: "4.4.1", Detail: fmt.Sprintf("connect to %s: %v", hostport, err), Remote: host}), true, false
			}
			cl.key, cached = key, false
		}
		res, broken, stale := t.send(ctx, cl, d, rcpts)
		if stale && cached && try == 0 {
			cl.close() // the server closed the idle connection: dial afresh
			continue
		}
		if broken {
			cl.close()
		} else {
			cl.used++
			if cl.used < t.opts.MaxMessagesPerConn {
				t.cache.put(cl, t.limit(d.Pool))
			} else {
				cl.quit()
			}
		}
		return res, stale && !cached, false
	}
}

// send runs MAIL, RCPT and DATA, pipelined when the server offers
// PIPELINING. broken says the connection is unusable afterwards; stale says
// it failed before the server answered anything.
func (t *Transport) send(ctx context.Context, cl *client, d *queue.Delivery, rcpts []string) (res []queue.Result, broken, stale bool) {
	stop := context.AfterFunc(ctx, func() { cl.conn.Close() })
	defer stop()
	res = make([]queue.Result, len(rcpts))
	netFail := func(stage string, err error, from int) ([]queue.Result, bool, bool) {
		r := queue.Result{Code: "4.4.2", Remote: cl.host,
			Detail: fmt.Sprintf("connection to %s broke during %s: %v", cl.host, stage, err)}
		for i := from; i < len(rcpts); i++ {
			res[i] = r
			res[i].Rcpt = rcpts[i]
		}
		return res, true, stage == "MAIL FROM"
	}
	mail, err := t.mailCommand(cl, d)
	if err != nil {
		return allResults(rcpts, queue.Result{Permanent: true, Code: "5.6.7", Detail: err.Error(), Remote: cl.host}), false, false
	}
	paths := make([]string, len(rcpts))
	for i, rc := range rcpts {
		a, err := address.Parse(rc)
		if err != nil { // Deliver takes these out first; never written raw
			return allResults(rcpts, badRcpt(rc, err)), false, false
		}
		paths[i] = a.Path()
	}
	_, pipelining := cl.ext["PIPELINING"]
	cl.write("%s", mail)
	for _, p := range paths {
		if pipelining {
			cl.write("RCPT TO:%s", p)
		}
	}
	if pipelining {
		cl.write("DATA")
	}
	if err := cl.flush(); err != nil {
		return netFail("MAIL FROM", err, 0)
	}
	r, err := cl.readReply()
	if err != nil {
		return netFail("MAIL FROM", err, 0)
	}
	mailOK := r.code == 250
	if !mailOK {
		rr := replyResult(r, cl.host, "MAIL FROM")
		for i := range rcpts {
			res[i] = rr
			res[i].Rcpt = rcpts[i]
		}
	}
	var accepted []int
	for i, rc := range rcpts {
		if !pipelining {
			if !mailOK {
				break
			}
			cl.write("RCPT TO:%s", paths[i])
			if err := cl.flush(); err != nil {
				return netFail("RCPT TO", err, i)
			}
		}
		r, err := cl.readReply()
		if err != nil {
			return netFail("RCPT TO", err, i)
		}
		if !mailOK {
			continue // the MAIL refusal already answered for every recipient
		}
		if r.code == 250 || r.code == 251 {
			accepted = append(accepted, i)
			continue
		}
		res[i] = replyResult(r, cl.host, "RCPT TO")
		res[i].Rcpt = rc
	}
	if !pipelining && len(accepted) > 0 {
		cl.write("DATA")
		if err := cl.flush(); err != nil {
			return netFail("DATA", err, 0)
		}
	}
	if !pipelining && len(accepted) == 0 {
		return res, t.reset(cl), false
	}
	r, err = cl.readReply()
	if err != nil {
		return netFail("DATA", err, 0)
	}
	failAccepted := func(r queue.Result) {
		for _, i := range accepted {
			res[i] = r
			res[i].Rcpt = rcpts[i]
		}
	}
	if r.code != 354 {
		if len(accepted) > 0 {
			failAccepted(replyResult(r, cl.host, "DATA"))
		}
		return res, t.reset(cl), false
	}
	if len(accepted) == 0 {
		// The server took DATA though it accepted no recipient: end the
		// (empty) message so the connection stays in step.
		cl.bw.WriteString(".\r\n")
		if err := cl.flush(); err != nil {
			return res, true, false
		}
		_, err := cl.readReply()
		return res, err != nil, false
	}
	if err := cl.writeBody(io.NewSectionReader(d.Body, 0, d.Size)); err != nil {
		failAccepted(queue.Result{Code: "4.4.2", Remote: cl.host, Detail: fmt.Sprintf("connection to %s broke while sending the message: %v", cl.host, err)})
		return res, true, false
	}
	saved := cl.timeout
	cl.timeout = t.opts.DataTimeout
	r, err = cl.readReply()
	cl.timeout = saved
	if err != nil {
		failAccepted(queue.Result{Code: "4.4.2", Remote: cl.host, Detail: fmt.Sprintf("no reply from %s after the message: %v", cl.host, err)})
		return res, true, false
	}
	if r.code != 250 {
		failAccepted(replyResult(r, cl.host, "end of DATA"))
		return res, false, false
	}
	failAccepted(queue.Result{OK: true, Code: enhancedOr(r, "2.0.0"), Detail: r.String(), Remote: cl.host, Reply: r.code})
	return res, false, false
}

// mailCommand builds MAIL FROM with the parameters the server supports. A
// message that needs SMTPUTF8 cannot go to a server without it (5.6.7).
func (t *Transport) mailCommand(cl *client, d *queue.Delivery) (string, error) {
	from, err := address.ParseReversePath(d.From)
	if err != nil { // Deliver refuses these first; never written raw
		return "", fmt.Errorf("envelope sender cannot be written to the next hop: %v", err)
	}
	var b strings.Builder
	b.WriteString("MAIL FROM:" + from.Path())
	if _, ok := cl.ext["SIZE"]; ok && d.Size > 0 {
		fmt.Fprintf(&b, " SIZE=%d", d.Size)
	}
	if _, ok := cl.ext["8BITMIME"]; ok {
		b.WriteString(" BODY=8BITMIME")
	}
	if d.UTF8 {
		if _, ok := cl.ext["SMTPUTF8"]; !ok {
			return "", fmt.Errorf("%s does not support SMTPUTF8, which this message needs", cl.host)
		}
		b.WriteString(" SMTPUTF8")
	}
	if _, ok := cl.ext["DSN"]; ok {
		if d.RetFull {
			b.WriteString(" RET=FULL")
		}
		if d.EnvID != "" {
			b.WriteString(" ENVID=" + xtext(d.EnvID))
		}
	}
	return b.String(), nil
}

// reset ends a failed transaction so the connection can be reused; it
// reports whether the connection is broken.
func (t *Transport) reset(cl *client) bool {
	r, err := cl.command("RSET")
	return err != nil || r.code != 250
}

func replyResult(r reply, host, stage string) queue.Result {
	perm := r.code >= 500
	return queue.Result{Permanent: perm, Code: enhancedOr(r, codeFor(perm, "4.0.0", "5.0.0")), Remote: host,
		Detail: fmt.Sprintf("%s (in reply to %s)", r, stage), Reply: r.code}
}

func enhancedOr(r reply, def string) string {
	if r.enhanced != "" {
		return r.enhanced
	}
	return def
}

// xtext encodes an ENVID value (RFC 3461 section 4).
func xtext(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c < '!' || c > '~' || c == '+' || c == '=' {
			fmt.Fprintf(&b, "+%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

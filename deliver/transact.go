package deliver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/queue"
)

// transact runs one SMTP transaction for rcpts on hostport. retryNext says
// the host could not be reached or spoke no SMTP, so the next MX host may be
// tried; any SMTP reply is final for this attempt.
func (t *Transport) transact(ctx context.Context, d *queue.Delivery, hostport string, rcpts []string) (res []queue.Result, retryNext bool) {
	key := d.Pool + "|" + hostport
	host, _, _ := net.SplitHostPort(hostport)
	for try := 0; ; try++ {
		cl, cached := t.cache.get(key), true
		if cl == nil {
			var err error
			cl, err = t.dial(ctx, hostport, d.Pool)
			if err != nil {
				return allResults(rcpts, queue.Result{Code: "4.4.1", Detail: fmt.Sprintf("connect to %s: %v", hostport, err), Remote: host}), true
			}
			cl.key, cached = key, false
		}
		res, broken, stale := t.send(ctx, cl, d, rcpts, host)
		if stale && cached && try == 0 {
			cl.close() // the server closed the idle connection: dial afresh
			continue
		}
		if broken {
			cl.close()
		} else {
			cl.used++
			if cl.used < t.opts.MaxMessagesPerConn {
				t.cache.put(cl, t.opts.MaxPerDestination)
			} else {
				cl.c.Quit()
			}
		}
		return res, stale && !cached
	}
}

// send runs MAIL, RCPT and DATA. broken says the connection is unusable;
// stale says it failed before the server answered anything.
func (t *Transport) send(ctx context.Context, cl *client, d *queue.Delivery, rcpts []string, host string) (res []queue.Result, broken, stale bool) {
	stop := context.AfterFunc(ctx, func() { cl.conn.Close() })
	defer stop()
	opts := &smtp.MailOptions{Size: d.Size, UTF8: d.UTF8, EnvelopeID: d.EnvID}
	if d.RetFull {
		opts.Return = smtp.DSNReturnFull
	}
	if err := cl.c.Mail(d.From, opts); err != nil {
		r, isReply := classify(err, host, "MAIL FROM")
		if !isReply {
			return allResults(rcpts, r), true, true
		}
		return allResults(rcpts, r), cl.c.Reset() != nil, false
	}
	res = make([]queue.Result, len(rcpts))
	var accepted []int
	for i, rc := range rcpts {
		if err := cl.c.Rcpt(rc, nil); err != nil {
			r, isReply := classify(err, host, "RCPT TO")
			r.Rcpt = rc
			res[i] = r
			if !isReply {
				for j := i + 1; j < len(rcpts); j++ {
					res[j] = r
					res[j].Rcpt = rcpts[j]
				}
				return res, true, false
			}
			continue
		}
		accepted = append(accepted, i)
	}
	if len(accepted) == 0 {
		return res, cl.c.Reset() != nil, false
	}
	fail := func(err error, stage string) ([]queue.Result, bool, bool) {
		r, isReply := classify(err, host, stage)
		for _, i := range accepted {
			res[i] = r
			res[i].Rcpt = rcpts[i]
		}
		return res, !isReply, false
	}
	w, err := cl.c.Data()
	if err != nil {
		return fail(err, "DATA")
	}
	if _, err := io.Copy(w, io.NewSectionReader(d.Body, 0, d.Size)); err != nil {
		w.Close()
		return fail(err, "message body")
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return fail(err, "end of DATA")
	}
	for _, i := range accepted {
		res[i] = queue.Result{Rcpt: rcpts[i], OK: true, Code: "2.0.0", Detail: "250 " + resp.StatusText, Remote: host}
	}
	return res, false, false
}

// classify turns a client error into a Result. isReply says the server
// answered (the connection is still in step); otherwise it broke.
func classify(err error, host, stage string) (r queue.Result, isReply bool) {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		ec := se.EnhancedCode
		perm := se.Code/100 == 5
		code := fmt.Sprintf("%d.%d.%d", ec[0], ec[1], ec[2])
		if ec == smtp.EnhancedCodeNotSet || ec == smtp.NoEnhancedCode {
			code = codeFor(perm, "4.0.0", "5.0.0")
		}
		return queue.Result{Permanent: perm, Code: code, Remote: host,
			Detail: fmt.Sprintf("%d %s %s (in reply to %s)", se.Code, code, se.Message, stage)}, true
	}
	return queue.Result{Code: "4.4.2", Remote: host, Detail: fmt.Sprintf("connection to %s broke during %s: %v", host, stage, err)}, false
}

package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/tollgate-mail/tollgate/client"
)

// apiError is an error answer of the API (client.Error): its status,
// stable code and message (which the console shows as it is: the API's
// messages are written for people and name the bad value).
type apiError = client.Error

// isStatus reports whether err is an API answer with this status.
func isStatus(err error, status int) bool { return client.IsStatus(err, status) }

// call makes one API request in-process: the request goes through the
// API's own handler (authentication, scoping, validation, audit) exactly as
// one from the network would. The caller's address is passed on so the
// audit log and the sign-in throttle see the browser's, not the console's.
// in, if not nil, is sent as JSON; out, if not nil, receives the answer.
func (c *Console) call(ctx context.Context, from *http.Request, token, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, body)
	if err != nil {
		return fmt.Errorf("build %s %s: %w", method, path, err)
	}
	req.RemoteAddr = from.RemoteAddr
	req.Host = from.Host
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := &recorder{header: http.Header{}}
	c.opts.API.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status >= 400 {
		var e client.ErrorAnswer
		if json.Unmarshal(rec.body.Bytes(), &e) != nil || e.Error.Code == "" {
			e.Error = apiError{Code: "unexpected", Message: fmt.Sprintf("%s %s answered %d", method, path, rec.status)}
		}
		e.Error.Status = rec.status
		return &e.Error
	}
	if out != nil && rec.status != http.StatusNoContent {
		if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
			return fmt.Errorf("decode the answer to %s %s: %w", method, path, err)
		}
	}
	return nil
}

// isCode reports whether err is an API answer with this error code.
func isCode(err error, code string) bool { return client.IsCode(err, code) }

// messageOf is the message to show for err: the API's own, or err's text.
func messageOf(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}

// recorder is the in-process http.ResponseWriter for API calls.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

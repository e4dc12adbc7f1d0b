package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tollgate-mail/tollgate/blocks"
	"github.com/tollgate-mail/tollgate/reputation"

	"github.com/tollgate-mail/tollgate/audit"
	"github.com/tollgate-mail/tollgate/client"
	"github.com/tollgate-mail/tollgate/directory"
	"github.com/tollgate-mail/tollgate/dnsverify"
)

// apiError is the error every endpoint returns (client.Error on the wire):
// a stable code for programs, the field at fault when there is one, and a
// message for people. Its Error is the bare message, for wrapping.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Message }

func badField(field, format string, a ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "invalid", Field: field, Message: field + ": " + fmt.Sprintf(format, a...)}
}

// writeError writes the API's error shape with a stable code and a message.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, client.ErrorAnswer{Error: client.Error{Code: code, Message: msg}})
}

// fail maps an error to its HTTP answer. Directory errors keep their
// message, which names the bad value; anything unexpected is a 500 whose
// details go to the log, not to the client.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, directory.ErrNotFound), errors.Is(err, blocks.ErrNotFound), errors.Is(err, reputation.ErrNotFound):
		ae = &apiError{Status: http.StatusNotFound, Code: "not_found", Message: err.Error()}
	case errors.Is(err, directory.ErrConflict), errors.Is(err, blocks.ErrConflict):
		ae = &apiError{Status: http.StatusConflict, Code: "conflict", Message: err.Error()}
	case errors.Is(err, directory.ErrInvalid), errors.Is(err, audit.ErrInvalid), errors.Is(err, blocks.ErrInvalid), errors.Is(err, reputation.ErrInvalid):
		ae = &apiError{Status: http.StatusBadRequest, Code: "invalid", Message: err.Error()}
	case errors.Is(err, directory.ErrThrottled):
		ae = &apiError{Status: http.StatusTooManyRequests, Code: "throttled", Message: err.Error()}
	case errors.Is(err, directory.ErrBadCredentials):
		ae = &apiError{Status: http.StatusUnauthorized, Code: "bad_credentials", Message: "wrong email, password, code or ticket"}
	case errors.Is(err, dnsverify.ErrLookup):
		ae = &apiError{Status: http.StatusServiceUnavailable, Code: "dns_lookup_failed", Message: err.Error()}
	default:
		s.opts.Logger.Error("API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = &apiError{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; the server log has the details"}
	}
	writeJSON(w, ae.Status, client.ErrorAnswer{Error: client.Error(*ae)})
}

// maxBody bounds a request body.
const maxBody = 1 << 20

// decode reads exactly one JSON object into v. Unknown fields, trailing
// data, wrong types and oversized bodies are 400s that say what is wrong.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &apiError{Status: http.StatusUnsupportedMediaType, Code: "bad_content_type", Message: "send application/json, not " + ct}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &ute):
			return badField(ute.Field, "must be a %s", ute.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return &apiError{Status: http.StatusBadRequest, Code: "unknown_field", Field: f, Message: fmt.Sprintf("unknown field %q", f)}
		case errors.As(err, &mbe):
			return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: fmt.Sprintf("request body over %d bytes", maxBody)}
		case errors.Is(err, io.EOF):
			return &apiError{Status: http.StatusBadRequest, Code: "bad_json", Message: "empty body: send a JSON object"}
		}
		return &apiError{Status: http.StatusBadRequest, Code: "bad_json", Message: "malformed JSON: " + err.Error()}
	}
	if dec.More() {
		return &apiError{Status: http.StatusBadRequest, Code: "bad_json", Message: "trailing data after the JSON object"}
	}
	return nil
}

// writeList answers {"<key>": [conv(item), ...]}, with an empty array rather
// than null when there are no items.
func writeList[T, J any](w http.ResponseWriter, key string, items []T, conv func(T) J) {
	out := make([]J, 0, len(items))
	for _, it := range items {
		out = append(out, conv(it))
	}
	writeJSON(w, http.StatusOK, map[string]any{key: out})
}

package client

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A refusal is one *Error with the status, code and message, and one line
// that does not repeat the code's word.
func TestErrorAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost && r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("POST without a JSON content type")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		w.Write([]byte(`{"error":{"code":"conflict","field":"ip_ranges","message":"create connector \"x\": conflict: overlaps a range of another tenant"}}`))
	}))
	defer srv.Close()
	_, err := New(srv.URL, "tok").CreateConnector(t.Context(), 3, ConnectorCreate{Name: "x", IPRanges: []string{"192.0.2.1"}})
	var e *Error
	if !errors.As(err, &e) || e.Status != 409 || e.Code != "conflict" || e.Field != "ip_ranges" {
		t.Fatalf("err = %#v, want a 409 conflict on ip_ranges", err)
	}
	if got, want := err.Error(), `create connector "x": overlaps a range of another tenant (409)`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	// An answer that is not the API's error shape still names the status.
	_, err = New(srv.URL, "wrong").Tenants(t.Context())
	if !IsStatus(err, 401) || !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("bare 401 = %v", err)
	}
	if _, err := New("http://127.0.0.1:1", "tok").Tenants(t.Context()); err == nil || !strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("no server = %v", err)
	}
}

package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/tollgate-mail/tollgate/devsink"
	"github.com/tollgate-mail/tollgate/help"
)

func get(t *testing.T, srv *httptest.Server, path, token string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		checkAnswer(t, http.MethodGet, path, resp.StatusCode, b)
	}
	return resp, string(b)
}

func TestPublicEndpoints(t *testing.T) {
	srv := httptest.NewServer(New(Options{Token: "secret"}).Handler())
	defer srv.Close()
	if resp, body := get(t, srv, "/healthz", ""); resp.StatusCode != 200 || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/healthz: %d %q", resp.StatusCode, body)
	}
	resp, body := get(t, srv, "/metrics", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "tollgate_smtp_active_connections") || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("/metrics: %d, missing Tollgate or runtime metrics", resp.StatusCode)
	}
}

// Every code Tollgate gives has a page with a section for the sender and
// one for the admin.
func TestHelpPages(t *testing.T) {
	srv := httptest.NewServer(New(Options{}).Handler())
	defer srv.Close()
	codes := help.Codes()
	if len(codes) < 5 {
		t.Fatalf("only %d help pages", len(codes))
	}
	for _, code := range append(codes, "5.1.1", "4.4.7") {
		resp, body := get(t, srv, "/ndr/"+code, "")
		if resp.StatusCode != 200 || !strings.Contains(body, "For the sender") || !strings.Contains(body, "For the email admin") {
			t.Errorf("/ndr/%s: %d, want a page with both sections", code, resp.StatusCode)
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("/ndr/%s has no strict CSP", code)
		}
	}
	if resp, _ := get(t, srv, "/ndr/5.7.64", ""); !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Error("help page is not HTML")
	}
	if resp, _ := get(t, srv, "/ndr/<script>", ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a malformed code gives %d, want 400", resp.StatusCode)
	}
	if resp, _ := get(t, srv, "/ndr/3.1.1", ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("class 3 gives %d, want 400", resp.StatusCode)
	}
}

func TestAPIRequiresToken(t *testing.T) {
	srv := httptest.NewServer(New(Options{Token: "secret"}).Handler())
	defer srv.Close()
	for _, tok := range []string{"", "wrong", "secre"} {
		resp, body := get(t, srv, "/api/v1/queue", tok)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("token %q: %d", tok, resp.StatusCode)
		}
		var e struct {
			Error struct{ Code, Message string }
		}
		if json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != "unauthorized" {
			t.Fatalf("error body %q lacks a stable code", body)
		}
	}
	resp, body := get(t, srv, "/api/v1/nothing-here", "secret")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "not_found") {
		t.Fatalf("unknown endpoint: %d %s", resp.StatusCode, body)
	}
	// An empty configured token never matches an empty header.
	open := httptest.NewServer(New(Options{}).Handler())
	defer open.Close()
	if resp, _ := get(t, open, "/api/v1/queue", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token configured: %d, want 401", resp.StatusCode)
	}
}

func TestDevMessages(t *testing.T) {
	sink, err := devsink.Start("127.0.0.1:0", t.TempDir(), nil, devsink.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	c, err := smtp.Dial(sink.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("a@demo.test", []string{"b@example.net"}, strings.NewReader("Subject: captured\r\n\r\nhi\r\n")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if !sink.Wait(10*time.Second, func(m []*devsink.Message) bool { return len(m) == 1 }) {
		t.Fatal("sink did not capture")
	}
	srv := httptest.NewServer(New(Options{Token: "secret", Sink: sink}).Handler())
	defer srv.Close()
	resp, body := get(t, srv, "/api/v1/dev/messages", "secret")
	var list struct{ Messages []devsink.Message }
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list.Messages) != 1 || list.Messages[0].Subject != "captured" {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, srv, "/api/v1/dev/messages/"+list.Messages[0].ID, "secret")
	if resp.StatusCode != 200 || !strings.Contains(body, "Subject: captured") {
		t.Fatalf("raw message: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get(t, srv, "/api/v1/dev/messages/nope", "secret"); resp.StatusCode != 404 {
		t.Fatalf("unknown message: %d", resp.StatusCode)
	}
	// Without the dev sink the endpoint says why.
	prod := httptest.NewServer(New(Options{Token: "secret"}).Handler())
	defer prod.Close()
	if resp, body := get(t, prod, "/api/v1/dev/messages", "secret"); resp.StatusCode != 404 || !strings.Contains(body, "not_dev_mode") {
		t.Fatalf("no sink: %d %s", resp.StatusCode, body)
	}
}

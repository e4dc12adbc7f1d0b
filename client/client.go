// Package client is the Go client of Tollgate's admin API and the one
// definition of its wire types (types.go): the API's handlers encode them,
// the tollgate CLI speaks the API through Client, and the console, which
// calls the API handler in-process, decodes the same types.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client speaks the admin API of one gateway. It is safe for concurrent use.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// Option configures New.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (tests pass an httptest server's).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// New returns a client of the API at baseURL ("http://127.0.0.1:8025")
// that authenticates with token (an API token or an admin session token;
// "" for the public routes only).
func New(baseURL, token string, opts ...Option) *Client {
	c := &Client{base: strings.TrimSuffix(baseURL, "/"), token: token, http: &http.Client{Timeout: 60 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Error is an error answer of the API: its HTTP status, stable code, the
// field at fault (if any) and a message written for people.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Error is the message once, with the status: the code's word is dropped
// where the message repeats it ("x: conflict: y" reads "x: y (409)").
func (e *Error) Error() string {
	msg := e.Message
	if e.Code != "" {
		msg = strings.Replace(msg, ": "+e.Code+": ", ": ", 1)
	}
	return fmt.Sprintf("%s (%d)", msg, e.Status)
}

// IsStatus reports whether err is an API answer with this status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// IsCode reports whether err is an API answer with this error code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// ErrorAnswer is the body of every error answer.
type ErrorAnswer struct {
	Error Error `json:"error"`
}

// Do sends one request: in, if not nil, as JSON; the answer is decoded into
// out when out is not nil (a *[]byte receives the raw body). An answer of
// 300 or above is an *Error.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("bad server address %q: %w", c.base, err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the admin API at %s (is tollgate serve running?): %w", c.base, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read the answer to %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return DecodeError(resp.StatusCode, answer)
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = answer
		return nil
	}
	if out == nil || len(answer) == 0 {
		return nil
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("decode the answer to %s %s: %w", method, path, err)
	}
	return nil
}

// DecodeError turns an error answer into an *Error; a body that is not the
// API's error shape still gives one, naming the status.
func DecodeError(status int, body []byte) *Error {
	var a ErrorAnswer
	if json.Unmarshal(body, &a) != nil || a.Error.Message == "" {
		text := strings.TrimSpace(string(body))
		if len(text) > 200 {
			text = text[:200]
		}
		if text == "" {
			text = http.StatusText(status)
		}
		a.Error = Error{Code: "unexpected", Message: text}
	}
	a.Error.Status = status
	return &a.Error
}

func tenantPath(id int64) string { return "/api/v1/tenants/" + strconv.FormatInt(id, 10) }

// Tenants lists the tenants the caller sees (a tenant admin: its own).
func (c *Client) Tenants(ctx context.Context) ([]Tenant, error) {
	var r struct {
		Tenants []Tenant `json:"tenants"`
	}
	err := c.Do(ctx, http.MethodGet, "/api/v1/tenants", nil, &r)
	return r.Tenants, err
}

// Tenant fetches one tenant.
func (c *Client) Tenant(ctx context.Context, id int64) (Tenant, error) {
	var t Tenant
	err := c.Do(ctx, http.MethodGet, tenantPath(id), nil, &t)
	return t, err
}

// CreateTenant creates a tenant (operators).
func (c *Client) CreateTenant(ctx context.Context, req TenantCreate) (Tenant, error) {
	var t Tenant
	err := c.Do(ctx, http.MethodPost, "/api/v1/tenants", req, &t)
	return t, err
}

// SetLicence sets a tenant's licence state and seats (operators).
func (c *Client) SetLicence(ctx context.Context, tenant int64, req LicenceSet) (Tenant, error) {
	var t Tenant
	err := c.Do(ctx, http.MethodPut, tenantPath(tenant)+"/licence", req, &t)
	return t, err
}

// Domains lists a tenant's accepted domains.
func (c *Client) Domains(ctx context.Context, tenant int64) ([]Domain, error) {
	var r struct {
		Domains []Domain `json:"domains"`
	}
	err := c.Do(ctx, http.MethodGet, tenantPath(tenant)+"/domains", nil, &r)
	return r.Domains, err
}

// AddDomain adds a pending accepted domain; Record is the TXT record to publish.
func (c *Client) AddDomain(ctx context.Context, tenant int64, name string) (Domain, error) {
	var d Domain
	err := c.Do(ctx, http.MethodPost, tenantPath(tenant)+"/domains", DomainAdd{Name: name}, &d)
	return d, err
}

// VerifyDomain looks the domain's TXT record up now.
func (c *Client) VerifyDomain(ctx context.Context, tenant int64, name string) (Verification, error) {
	var v Verification
	err := c.Do(ctx, http.MethodPost, tenantPath(tenant)+"/domains/"+url.PathEscape(name)+"/verify", nil, &v)
	return v, err
}

// Connectors lists a tenant's connectors, deleted ones included.
func (c *Client) Connectors(ctx context.Context, tenant int64) ([]Connector, error) {
	var r struct {
		Connectors []Connector `json:"connectors"`
	}
	err := c.Do(ctx, http.MethodGet, tenantPath(tenant)+"/connectors", nil, &r)
	return r.Connectors, err
}

// CreateConnector creates a connector.
func (c *Client) CreateConnector(ctx context.Context, tenant int64, req ConnectorCreate) (Connector, error) {
	var k Connector
	err := c.Do(ctx, http.MethodPost, tenantPath(tenant)+"/connectors", req, &k)
	return k, err
}

// ConfirmConnector ends a connector's probation (an admin session and a
// fresh TOTP code).
func (c *Client) ConfirmConnector(ctx context.Context, tenant, id int64, code string) (Connector, error) {
	var k Connector
	err := c.Do(ctx, http.MethodPost, fmt.Sprintf("%s/connectors/%d/confirm", tenantPath(tenant), id), ConnectorConfirm{Code: code}, &k)
	return k, err
}

// DeleteConnector deletes a connector (its record stays).
func (c *Client) DeleteConnector(ctx context.Context, tenant, id int64) error {
	return c.Do(ctx, http.MethodDelete, fmt.Sprintf("%s/connectors/%d", tenantPath(tenant), id), nil, nil)
}

// Users lists a tenant's users.
func (c *Client) Users(ctx context.Context, tenant int64) ([]User, error) {
	var r struct {
		Users []User `json:"users"`
	}
	err := c.Do(ctx, http.MethodGet, tenantPath(tenant)+"/users", nil, &r)
	return r.Users, err
}

// CreateUser creates a user.
func (c *Client) CreateUser(ctx context.Context, tenant int64, req UserCreate) (User, error) {
	var u User
	err := c.Do(ctx, http.MethodPost, tenantPath(tenant)+"/users", req, &u)
	return u, err
}

// CreateOperator adds an operator (operators).
func (c *Client) CreateOperator(ctx context.Context, req AdminCreate) (Admin, error) {
	var a Admin
	err := c.Do(ctx, http.MethodPost, "/api/v1/operators", req, &a)
	return a, err
}

// AuditFilter narrows an audit search; zero fields do not filter.
type AuditFilter struct {
	Tenant        int64
	Action, Actor string
	Text          string // ?q=: a part of the actor, action, target or source address
	Days, Limit   int
}

func (f AuditFilter) query() string {
	q := url.Values{}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Tenant > 0 {
		q.Set("tenant", strconv.FormatInt(f.Tenant, 10))
	}
	if f.Action != "" {
		q.Set("action", f.Action)
	}
	if f.Actor != "" {
		q.Set("actor", f.Actor)
	}
	if f.Text != "" {
		q.Set("q", f.Text)
	}
	if f.Days > 0 {
		q.Set("days", strconv.Itoa(f.Days))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// Audit searches the audit log, newest first.
func (c *Client) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var r struct {
		Entries []AuditEntry `json:"entries"`
	}
	err := c.Do(ctx, http.MethodGet, "/api/v1/audit"+f.query(), nil, &r)
	return r.Entries, err
}

// VerifyAudit walks the audit log's hash chain.
func (c *Client) VerifyAudit(ctx context.Context) (AuditReport, error) {
	var r AuditReport
	err := c.Do(ctx, http.MethodGet, "/api/v1/audit/verify", nil, &r)
	return r, err
}

// Queue lists the messages in the node's spool (operators).
func (c *Client) Queue(ctx context.Context) ([]QueuedMessage, error) {
	var r struct {
		Messages []QueuedMessage `json:"messages"`
	}
	err := c.Do(ctx, http.MethodGet, "/api/v1/queue", nil, &r)
	return r.Messages, err
}

// CapturedMessages lists what the dev capture sink received (serve --dev).
func (c *Client) CapturedMessages(ctx context.Context) ([]CapturedMessage, error) {
	var r struct {
		Messages []CapturedMessage `json:"messages"`
	}
	err := c.Do(ctx, http.MethodGet, "/api/v1/dev/messages", nil, &r)
	return r.Messages, err
}

// SignIn is the first sign-in step. With the TOTP code in req it may
// finish at once (session set); otherwise step says what comes next.
func (c *Client) SignIn(ctx context.Context, req SignIn) (step SignInStep, session *Session, err error) {
	var raw []byte
	if err := c.Do(ctx, http.MethodPost, "/api/v1/signin", req, &raw); err != nil {
		return step, nil, err
	}
	var s Session
	if json.Unmarshal(raw, &s) == nil && s.Token != "" {
		return step, &s, nil
	}
	if err := json.Unmarshal(raw, &step); err != nil {
		return step, nil, fmt.Errorf("decode the sign-in answer: %w", err)
	}
	return step, nil, nil
}

// SignInTOTP finishes a sign-in with a TOTP code (or, at enrolment, the
// first code of the new secret).
func (c *Client) SignInTOTP(ctx context.Context, ticket, code string) (Session, error) {
	var s Session
	err := c.Do(ctx, http.MethodPost, "/api/v1/signin/totp", SignInTOTP{Ticket: ticket, Code: code}, &s)
	return s, err
}

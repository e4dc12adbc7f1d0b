package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The message trace's wire types (GET /api/v1/trace and /api/v1/trace/{id}):
// "what happened to this message?", by search and event by event.

// TraceSummary is one message (or one refused transaction) as a search
// result. ID names it for TraceMessage: the queue id once queued, else
// "s:" + session.
type TraceSummary struct {
	ID         string   `json:"id"`
	QueueID    string   `json:"queue_id,omitempty"`
	Session    string   `json:"session,omitempty"`
	TenantID   int64    `json:"tenant_id,omitempty"`
	Sender     string   `json:"sender,omitempty"`
	Recipients []string `json:"recipients,omitempty"`
	MessageID  string   `json:"message_id,omitempty"`
	Subject    string   `json:"subject,omitempty"`
	Verdict    string   `json:"verdict,omitempty"`
	Pool       string   `json:"pool,omitempty"`
	// Status is open, abandoned, refused, deferred, queued, delivered or bounced.
	Status    string    `json:"status"`
	Tenant    string    `json:"tenant,omitempty"`    // the tenant's name as attributed at the time
	Connector string    `json:"connector,omitempty"` // the connector the session came through, if any
	ClientIP  string    `json:"client_ip,omitempty"`
	Code      string    `json:"code,omitempty"`
	Rule      string    `json:"rule,omitempty"`
	First     time.Time `json:"first_at"`
	Last      time.Time `json:"last_at"`
}

// TraceEvent is one step of a message's life: a check's decision with its
// rule and figures (Attrs), the verdict, the pool, a delivery attempt.
type TraceEvent struct {
	At        time.Time         `json:"at"`
	Session   string            `json:"session,omitempty"`
	QueueID   string            `json:"queue_id,omitempty"`
	TenantID  int64             `json:"tenant_id,omitempty"`
	Stage     string            `json:"stage"`
	Outcome   string            `json:"outcome"`
	Rule      string            `json:"rule,omitempty"`
	Detail    string            `json:"detail,omitempty"`
	Sender    string            `json:"sender,omitempty"`
	Rcpt      string            `json:"rcpt,omitempty"`
	MessageID string            `json:"message_id,omitempty"`
	Attrs     map[string]string `json:"attrs,omitempty"`
}

// TraceMessage is one message's life: the summary and its events, oldest first.
type TraceMessage struct {
	Message TraceSummary `json:"message"`
	Events  []TraceEvent `json:"events"`
}

// TraceQuery selects messages; empty fields do not filter. Tenant is for
// operators (a tenant admin always searches its own tenant); Limit 0 asks
// for the default (50), at most 500.
type TraceQuery struct {
	Sender, Recipient, MessageID, QueueID string
	Since, Until                          time.Time
	Tenant                                int64
	Limit                                 int
}

// Values is the query as URL parameters of GET /api/v1/trace.
func (q TraceQuery) Values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"sender": q.Sender, "recipient": q.Recipient, "message_id": q.MessageID, "queue_id": q.QueueID} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if q.Tenant > 0 {
		v.Set("tenant", strconv.FormatInt(q.Tenant, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// TraceSearch is the answer of GET /api/v1/trace: messages, newest first.
type TraceSearch struct {
	Messages []TraceSummary `json:"messages"`
}

// Trace searches the message trace.
func (c *Client) Trace(ctx context.Context, q TraceQuery) ([]TraceSummary, error) {
	var r TraceSearch
	err := c.Do(ctx, http.MethodGet, "/api/v1/trace?"+q.Values().Encode(), nil, &r)
	return r.Messages, err
}

// TraceMessage fetches one message's life by its trace id.
func (c *Client) TraceMessage(ctx context.Context, id string) (TraceMessage, error) {
	var m TraceMessage
	err := c.Do(ctx, http.MethodGet, "/api/v1/trace/"+url.PathEscape(id), nil, &m)
	return m, err
}

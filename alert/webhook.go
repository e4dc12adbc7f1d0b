package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Defaults for Webhook's zero fields.
const (
	DefaultWebhookTimeout  = 10 * time.Second
	DefaultWebhookAttempts = 5
	DefaultWebhookBackoff  = 2 * time.Second
	maxWebhookBackoff      = time.Minute
)

// Webhook POSTs each alert as JSON (the Alert's fields) to URL, signed with
// Secret (see SignatureHeader). A network error, a timeout, 429 or a 5xx
// answer is retried with doubling backoff; any other non-2xx answer is
// final, since sending the same request again would get the same answer.
type Webhook struct {
	URL    string
	Secret string
	// Timeout bounds one attempt.
	Timeout time.Duration
	// Attempts in all, the first included.
	Attempts int
	// Backoff is the wait before the first retry; it doubles, up to a minute.
	Backoff time.Duration
	// Client defaults to a plain http.Client.
	Client *http.Client
	// Clock gives the signing time (tests set it); default time.Now.
	Clock func() time.Time
	// UserAgent defaults to "Tollgate-Alerts/1"; IDHeader, the header that
	// carries the payload's id, to "Tollgate-Alert-Id". Other signed
	// webhooks (the delivery events) set their own.
	UserAgent string
	IDHeader  string
}

// NewWebhook checks the URL and secret and returns a Webhook with the
// defaults.
func NewWebhook(rawURL, secret string) (*Webhook, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("alert: webhook url %q is not an http(s) URL", rawURL)
	}
	if len(secret) < 16 {
		return nil, errors.New("alert: the webhook secret must be at least 16 characters, so signatures cannot be guessed")
	}
	return &Webhook{URL: rawURL, Secret: secret}, nil
}

// Name implements Sink.
func (w *Webhook) Name() string { return "webhook" }

// Send implements Sink.
func (w *Webhook) Send(ctx context.Context, a Alert) error {
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("webhook: encode alert %s: %w", a.ID, err)
	}
	return w.Post(ctx, string(a.Kind), a.ID, body)
}

// Post sends one JSON body with the retries: event goes in the
// Tollgate-Event header, id in the IDHeader (the same on every attempt, so
// a receiver can drop duplicates); each attempt is signed afresh.
func (w *Webhook) Post(ctx context.Context, event, id string, body []byte) error {
	attempts := cmpOr(w.Attempts, DefaultWebhookAttempts)
	wait := cmpOr(w.Backoff, DefaultWebhookBackoff)
	var last error
	for i := range attempts {
		if i > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("webhook %s: gave up after %d attempts: %w (last: %v)", w.URL, i, ctx.Err(), last)
			case <-t.C:
			}
			wait = min(2*wait, maxWebhookBackoff)
		}
		retry, err := w.post(ctx, event, id, body)
		if err == nil {
			return nil
		}
		last = err
		if !retry {
			return fmt.Errorf("webhook %s: %w", w.URL, err)
		}
	}
	return fmt.Errorf("webhook %s: %d attempts failed, last: %w", w.URL, attempts, last)
}

// post makes one attempt, signed afresh so a late retry is not refused as
// stale; retry says whether another attempt could succeed.
func (w *Webhook) post(ctx context.Context, event, id string, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, cmpOr(w.Timeout, DefaultWebhookTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	now := time.Now()
	if w.Clock != nil {
		now = w.Clock()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", cmpOrString(w.UserAgent, "Tollgate-Alerts/1"))
	req.Header.Set("Tollgate-Event", event)
	req.Header.Set(cmpOrString(w.IDHeader, "Tollgate-Alert-Id"), id)
	req.Header.Set(SignatureHeader, Sign(w.Secret, body, now))
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return true, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)) // let the connection be reused
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	err = fmt.Errorf("answered %s: %q", resp.Status, bytes.TrimSpace(snippet))
	return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500, err
}

func cmpOr[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func cmpOrString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

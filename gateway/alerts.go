package gateway

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tollgate-mail/tollgate/alert"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/counters"
	"github.com/tollgate-mail/tollgate/metrics"
	"github.com/tollgate-mail/tollgate/policy"
	"github.com/tollgate-mail/tollgate/protect"
	"github.com/tollgate-mail/tollgate/queue"
)

var registerAlertMetrics sync.Once

// openAlerts builds the notifier: mail to the tenant's admins and the
// operators through Tollgate's own queue, and a signed webhook if one is
// configured.
func (g *Gateway) openAlerts(cfg *config.Config) error {
	registerAlertMetrics.Do(func() { metrics.Registry.MustRegister(alert.Collectors()...) })
	ac := cfg.Alerts
	var sinks []alert.Sink
	if ac.Email {
		from := ac.From
		if from == "" {
			from = "tollgate-alerts@" + cfg.Hostname
		}
		email, err := alert.NewEmail(from, ac.OperatorEmails, g.tenantAdminEmails, queueSubmitter{g}, cfg.Admin.PublicURL)
		if err != nil {
			return fmt.Errorf("config: alerts: %w", err)
		}
		email.Hostname = cfg.Hostname
		sinks = append(sinks, email)
	}
	if ac.WebhookURL != "" {
		wh, err := alert.NewWebhook(ac.WebhookURL, ac.WebhookSecret)
		if err != nil {
			return fmt.Errorf("config: alerts.webhook_url: %w", err)
		}
		sinks = append(sinks, wh)
	}
	if len(sinks) == 0 {
		return nil // alerts are logged only
	}
	acfg := alert.Config{DedupeWindow: ac.DedupeWindow.Duration}
	if c, ok := g.Counters.(counters.Claimer); ok {
		acfg.Claim = c.Claim // a fleet on Redis sends each alert once
	}
	n, err := alert.NewNotifier(acfg, sinks...)
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	g.Alerts = n
	return nil
}

// notify turns a check's alert into a notification (never blocking).
func (g *Gateway) notify(a protect.Alert) {
	if g.Alerts == nil {
		return
	}
	g.Alerts.Notify(alert.Alert{Kind: alert.Kind(a.Kind), TenantID: a.TenantID, Tenant: a.Tenant, Subject: a.Subject,
		Ref: a.Ref, Text: a.Text, Code: a.Code, Figures: a.Figures})
}

// tenantAdminEmails are the addresses alerts about a tenant go to.
func (g *Gateway) tenantAdminEmails(ctx context.Context, tenantID int64) ([]string, error) {
	if tenantID == 0 {
		return nil, nil
	}
	admins, err := g.Directory.Admins(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(admins))
	for _, a := range admins {
		out = append(out, a.Email)
	}
	return out, nil
}

// queueSubmitter commits alert mail into this node's queue, so it goes out
// like any other message (durably, with retries and DSNs to the From).
type queueSubmitter struct{ g *Gateway }

func (s queueSubmitter) Submit(ctx context.Context, from string, to []string, msg []byte) error {
	w, err := s.g.Queue.Create()
	if err != nil {
		return fmt.Errorf("queue alert: %w", err)
	}
	defer w.Abort()
	if _, err := bytes.NewReader(msg).WriteTo(w); err != nil {
		return fmt.Errorf("queue alert: %w", err)
	}
	rcpts := make([]queue.Recipient, len(to))
	for i, r := range to {
		rcpts[i] = queue.Recipient{Addr: r}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := s.g.Queue.Commit(ctx, w, queue.Envelope{From: from, Rcpts: rcpts, Subject: "Tollgate alert", Pool: policy.PoolNormal}); err != nil {
		return fmt.Errorf("queue alert: %w", err)
	}
	return nil
}

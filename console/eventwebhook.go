package console

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/tollgate-mail/tollgate/client"
)

// The tenant's delivery-event webhook page: where its events go, set or
// clear it, rotate the signing secret (shown once, on the page that
// follows), and the events whose sends all failed, to redeliver once the
// receiver is fixed. Every action is the API's, called in-process with the
// admin's session.

type eventWebhookData struct {
	Hook   *client.EventWebhook // nil: none set
	Failed client.FailedEvents
}

func (c *Console) eventWebhookPage(q *req) error {
	d := eventWebhookData{}
	var wh client.EventWebhook
	switch err := q.api("GET", q.apiT("/event-webhook"), nil, &wh); {
	case err == nil:
		d.Hook = &wh
	case isStatus(err, http.StatusNotFound):
	default:
		return err
	}
	if err := q.api("GET", q.apiT("/event-webhook/failed?limit=200"), nil, &d.Failed); err != nil {
		return err
	}
	return q.render(http.StatusOK, "eventwebhook.html", "Delivery events", "event-webhook", d)
}

// setEventWebhook points the events at a URL. The first set makes the
// signing secret: it is shown once, as after a rotation.
func (c *Console) setEventWebhook(q *req) error {
	u := strings.TrimSpace(q.r.PostForm.Get("url"))
	had := q.api("GET", q.apiT("/event-webhook"), nil, nil) == nil
	var wh client.EventWebhook
	if err := q.api("PUT", q.apiT("/event-webhook"), client.EventWebhookRequest{URL: u}, &wh); err != nil {
		return q.back(q.tpath("event-webhook"), err)
	}
	if had || wh.Secret == "" {
		return q.done(q.tpath("event-webhook"), flash{Text: "Delivery events now go to " + wh.URL + ", signed with the same secret."})
	}
	return q.render(http.StatusOK, "secret.html", "Delivery events", "event-webhook", secretData{
		What: "The signing secret of your delivery-event webhook", Secret: wh.Secret,
		Note: "Check each request's Tollgate-Signature with it. It is shown here once; rotate it to get a new one.",
		Back: q.tpath("event-webhook"), BackLabel: "Back to delivery events"})
}

func (c *Console) rotateEventSecret(q *req) error {
	var wh client.EventWebhook
	if err := q.api("POST", q.apiT("/event-webhook/rotate-secret"), nil, &wh); err != nil {
		return q.back(q.tpath("event-webhook"), err)
	}
	return q.render(http.StatusOK, "secret.html", "Delivery events", "event-webhook", secretData{
		What: "The new signing secret of your delivery-event webhook", Secret: wh.Secret,
		Note: "Requests are signed with it from now on; the old secret no longer verifies. It is shown here once.",
		Back: q.tpath("event-webhook"), BackLabel: "Back to delivery events"})
}

func (c *Console) clearEventWebhook(q *req) error {
	if err := q.api("DELETE", q.apiT("/event-webhook"), nil, nil); err != nil {
		return q.back(q.tpath("event-webhook"), err)
	}
	return q.done(q.tpath("event-webhook"), flash{Text: "Delivery events stopped: none are sent until you set a webhook again."})
}

// redeliverEvents sends one failed event again (id), or all of them.
func (c *Console) redeliverEvents(q *req) error {
	req := client.RedeliverRequest{}
	if id := strings.TrimSpace(q.r.PostForm.Get("id")); id != "" {
		req.IDs = []string{id}
	}
	var r client.Redelivery
	if err := q.api("POST", q.apiT("/event-webhook/failed/redeliver"), req, &r); err != nil {
		return q.back(q.tpath("event-webhook"), err)
	}
	return q.done(q.tpath("event-webhook"), flash{Text: fmt.Sprintf("%d event(s) queued for redelivery, each with its own id.", r.Redelivered)})
}

func (c *Console) eventWebhookRoutes(t func(pattern string, h handler)) {
	t("GET /console/t/{tenant}/event-webhook", c.eventWebhookPage)
	t("POST /console/t/{tenant}/event-webhook", c.setEventWebhook)
	t("POST /console/t/{tenant}/event-webhook/rotate", c.rotateEventSecret)
	t("POST /console/t/{tenant}/event-webhook/clear", c.clearEventWebhook)
	t("POST /console/t/{tenant}/event-webhook/redeliver", c.redeliverEvents)
}

package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// `admin trace-mark ID --not-spam` over real SMTP: a message the built-in
// classifier calls spam is marked, and the same content sent again is
// clean with the correction as its reason. Bad use names the fault.
func TestAdminTraceMark(t *testing.T) {
	dir := t.TempDir()
	url, relay, _ := devServerRelay(t, dir)
	spam := func(id string) string {
		return "From: ok@demo.test\r\nTo: bob@example.net\r\nSubject: FREE!!! Make $$$ FAST\r\nMessage-ID: <" + id + ">\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n" +
			`<p>Dear friend, you have been selected to receive a FREE offer! Make money fast from home. Click here to claim your cash prize now. 100% guaranteed, no risk, order now and save. To be removed click <a href="http://192.0.2.7/remove">here</a>.</p>` + "\r\n"
	}
	verdictOf := func(id string) (string, string) {
		t.Helper()
		var list struct {
			Messages []struct{ ID, Verdict string }
		}
		var out string
		waitUntil(t, 30*time.Second, "message "+id+" in the trace", func() (bool, string) {
			out = mustAdmin(t, dir, url, "--json", "trace", "--message-id", id)
			return json.Unmarshal([]byte(out), &list) == nil && len(list.Messages) == 1, out
		})
		return list.Messages[0].ID, list.Messages[0].Verdict
	}
	if err := plainSend(relay, "ok@demo.test", []string{"bob@example.net"}, spam("s1@demo.test")); err != nil {
		t.Fatal(err)
	}
	id, verdict := verdictOf("s1@demo.test")
	if verdict != "spam" {
		t.Fatalf("the spam sample's verdict is %q", verdict)
	}
	for _, bad := range [][]string{{"trace-mark", id}, {"trace-mark", id, "--spam", "--not-spam"}, {"trace-mark", "--spam"}} {
		if out, err := admin(t, dir, url, bad...); err == nil {
			t.Errorf("%v was accepted: %s", bad, out)
		}
	}
	if out, err := admin(t, dir, url, "trace-mark", "NOSUCHID", "--spam"); err == nil || !strings.Contains(out+err.Error(), "not in the trace") {
		t.Errorf("an unknown id: %v %s", err, out)
	}
	out := mustAdmin(t, dir, url, "trace-mark", id, "--not-spam")
	wantOut(t, "trace-mark", out, "marked message "+id+" not spam for tenant 1 demo")
	if err := plainSend(relay, "ok@demo.test", []string{"bob@example.net"}, spam("s2@demo.test")); err != nil {
		t.Fatal(err)
	}
	id2, verdict := verdictOf("s2@demo.test")
	if verdict != "clean" {
		t.Fatalf("the same content after trace-mark --not-spam: %q", verdict)
	}
	wantOut(t, "trace of the corrected message", mustAdmin(t, dir, url, "trace", id2), "CORRECTED_NOT_SPAM (corrected by operator ")

	// trace-marks lists the mark; trace-unmark withdraws it, once.
	list := mustAdmin(t, dir, url, "trace-marks", "--message", id)
	wantOut(t, "trace-marks", list, "in force")
	cid := strings.Fields(strings.Split(list, "\n")[1])[0]
	for _, bad := range [][]string{{"trace-unmark"}, {"trace-unmark", "seven"}, {"trace-unmark", "99999"}} {
		if out, err := admin(t, dir, url, bad...); err == nil {
			t.Errorf("%q: %s", bad, out)
		}
	}
	wantOut(t, "trace-unmark", mustAdmin(t, dir, url, "trace-unmark", cid), "withdrew correction "+cid)
	if out, err := admin(t, dir, url, "trace-unmark", cid); err == nil || !strings.Contains(out+err.Error(), "withdrawn") {
		t.Errorf("withdrawn twice: %v %s", err, out)
	}
	wantOut(t, "trace-marks after", mustAdmin(t, dir, url, "trace-marks", "--message", id), "withdrawn ")
	if err := plainSend(relay, "ok@demo.test", []string{"bob@example.net"}, spam("s3@demo.test")); err != nil {
		t.Fatal(err)
	}
	if _, verdict := verdictOf("s3@demo.test"); verdict != "spam" {
		t.Errorf("the same content after trace-unmark: %q, want the model's spam", verdict)
	}
}

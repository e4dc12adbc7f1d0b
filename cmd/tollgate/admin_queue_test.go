package main

import (
	"strings"
	"testing"
)

// The queue commands reach the API: the list answers with its count, an
// unknown queue id is an error line naming it as missing, a bad filter is
// refused naming the value, and every command has --help.
func TestAdminQueueCommands(t *testing.T) {
	dir := t.TempDir()
	url, _ := devServer(t, dir)
	out, errOut, err := adminSplit(t, dir, url, "", "queue", "list", "--held", "true", "--domain", "example.net")
	if err != nil || !strings.Contains(out, "0 message(s) in the queue") {
		t.Fatalf("queue list: %v\n%s%s", err, out, errOut)
	}
	for _, action := range []string{"hold", "release", "retry", "bounce", "drop", "move"} {
		out, errOut, err := adminSplit(t, dir, url, "", "queue", action, "0NOSUCHMESSAGE0000000")
		if err == nil || !strings.Contains(errOut, "0NOSUCHMESSAGE0000000 is not in the queue (404)") {
			t.Fatalf("queue %s of an unknown id: %v\n%s%s", action, err, out, errOut)
		}
		if out, _, err := adminSplit(t, dir, url, "", "queue", action, "--help"); err != nil || !strings.Contains(out, "queue "+action) {
			t.Fatalf("queue %s --help: %v\n%s", action, err, out)
		}
	}
	if _, errOut, err := adminSplit(t, dir, url, "", "queue", "list", "--held", "maybe"); err == nil || !strings.Contains(errOut, "maybe") {
		t.Fatalf("bad --held accepted: %v %s", err, errOut)
	}
	if _, errOut, err := adminSplit(t, dir, url, "", "queue", "move", "X", "--pool", "fast"); err == nil || !strings.Contains(errOut, "fast") {
		t.Fatalf("bad --pool accepted: %v %s", err, errOut)
	}
}

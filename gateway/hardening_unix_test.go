//go:build unix

package gateway_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/tollgate-mail/tollgate/devsink"
)

// Issue 10, finding 12: tollgate.db and trace.db were created 0644 (password
// hashes, TOTP secrets) when the data directory already existed. Under the
// usual umask 022, in an existing world-readable data directory with a
// tollgate.db an older version left 0644, every file the gateway makes or
// keeps there (databases and their -wal/-shm, spool, counters, TLS key and
// certificate, dev token and password, capture) ends up 0600 and every
// directory 0700.
func TestDataDirFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	cfg := testConfig(t, "")
	if err := os.Chmod(cfg.DataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.DataDir, "tollgate.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	g := start(t, cfg, true) // dev: seed, dev password, capture sink in the data directory
	if err := relayFrom(t, g, "127.0.0.1", "a@demo.test", "private files"); err != nil {
		t.Fatal(err)
	}
	if !g.Sink.Wait(waitFor, func(m []*devsink.Message) bool { return len(m) == 1 }) {
		t.Fatal("the message was not delivered to the capture sink")
	}
	g.Close() // writes the counters file
	var files int
	err := filepath.WalkDir(cfg.DataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == cfg.DataDir {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v, want no access for group and others", p, fi.Mode().Perm())
		}
		if !d.IsDir() {
			files++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tollgate.db", "trace.db", "counters", "tls-key.pem", "dev-user-password"} {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, name)); err != nil {
			t.Errorf("expected %s in the data directory: %v", name, err)
		}
	}
	if files < 8 {
		t.Errorf("only %d files in the data directory: the walk saw too little to mean anything", files)
	}
}

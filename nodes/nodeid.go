package nodes

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// idFile is the file in a node's data directory that holds its id.
const idFile = "node-id"

// NodeID is the id of the node whose data directory is dataDir: read from
// dataDir/node-id, or made (16 random hex digits) and written there on a
// node's first start. The id belongs to the data directory, with the spool
// it counts: a copied configuration gives a second node the same hostname
// but not the same id. A file that holds anything else is an error naming
// it, not quietly replaced (that would split one node into two rows).
func NodeID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, idFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		id := strings.TrimSpace(string(b))
		if !validID(id) {
			return "", fmt.Errorf("nodes: %s holds %q, not a node id (1 to 64 letters, digits, '-' or '_'); remove it to make a new one", path, truncate(id, 80))
		}
		return id, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("nodes: read node id: %w", err)
	}
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("nodes: make node id: %w", err)
	}
	id := hex.EncodeToString(raw[:])
	// Written to a temporary name and renamed, so a crash never leaves a
	// half-written id; should two processes race on one directory, the
	// later rename wins and both read it back.
	tmp, err := os.CreateTemp(dataDir, idFile+".*")
	if err != nil {
		return "", fmt.Errorf("nodes: write node id: %w", err)
	}
	_, werr := tmp.WriteString(id + "\n")
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("nodes: write node id %s: %w", path, werr)
	}
	return NodeID(dataDir)
}

// validID is what an id may be: short, and plain enough to show and log.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

package classify

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"sync"
)

// defaultModel is the model trained from shared/corpus by
//
//	tollgate classify train ../shared/corpus/spamassassin-train.jsonl.gz -o classify/model.bin
//
// and checked to be reproducible bit for bit by TestClassifyModelReproducible.
//
//go:embed model.bin
var defaultModel []byte

var embedded = sync.OnceValues(func() (*Model, error) {
	m, err := ReadModel(bytes.NewReader(defaultModel))
	if err != nil {
		return nil, fmt.Errorf("classify: embedded model: %w", err)
	}
	return m, nil
})

// EmbeddedModel is the model built into the binary (shared, read-only).
func EmbeddedModel() (*Model, error) { return embedded() }

// Default is the built-in engine with the embedded model and default options.
func Default() (*Engine, error) { return Load("", Options{}) }

// Load returns the built-in engine with the model file at path, or the
// embedded model when path is "".
func Load(path string, opts Options) (*Engine, error) {
	if path == "" {
		m, err := embedded()
		if err != nil {
			return nil, err
		}
		return New(m, opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	defer f.Close()
	m, err := ReadModel(f)
	if err != nil {
		return nil, fmt.Errorf("classify: model %s: %w", path, err)
	}
	return New(m, opts)
}

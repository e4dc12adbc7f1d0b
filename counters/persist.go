package counters

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// DefaultSaveInterval is how often OpenFile writes the counts to disk.
const DefaultSaveInterval = 10 * time.Second

// fileFormat names the snapshot layout, so a future change is refused
// rather than misread.
const fileFormat = "tollgate-counters-2"

// fileFormatV1 is the layout before sets: series only, still read.
const fileFormatV1 = "tollgate-counters-1"

type savedSet struct {
	Key   string
	TTLMs int64
	Max   int
	Seen  map[string]int64
}

type savedSeries struct {
	Key    string
	Width  int64
	Newest int64
	TTLMs  int64
	Ring   []savedBucket
}

type savedBucket struct{ Idx, N int64 }

// filed is the embedded counter for one node that survives a restart: the
// in-memory counter, written to a file every interval and at Close, and
// read back at open. A crash loses at most the last interval's counts,
// which lets at most that much extra traffic through a limit.
type filed struct {
	*memory
	path  string
	stop  chan struct{}
	done  chan struct{}
	close sync.Once
	err   error
}

// OpenFile returns an embedded Counter kept in path (created if missing).
func OpenFile(path string, every time.Duration) (Counter, error) {
	if every <= 0 {
		every = DefaultSaveInterval
	}
	m := NewMemory().(*memory)
	if err := m.load(path); err != nil {
		return nil, err
	}
	f := &filed{memory: m, path: path, stop: make(chan struct{}), done: make(chan struct{})}
	go f.loop(every)
	return f, nil
}

func (f *filed) loop(every time.Duration) {
	defer close(f.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
			if err := f.save(f.path); err != nil {
				slog.Warn("counters: save", "path", f.path, "err", err)
			}
		}
	}
}

// Close stops the saver and writes the counts one last time.
func (f *filed) Close() error {
	f.close.Do(func() {
		close(f.stop)
		<-f.done
		f.err = f.save(f.path)
	})
	return f.err
}

// save writes every live series to path atomically: a temporary file,
// fsync, rename, directory fsync.
func (m *memory) save(path string) error {
	tmp := path + ".tmp"
	file, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("save counters: %w", err)
	}
	// A temporary file left by a crash keeps its old mode: set it.
	if err := file.Chmod(0o600); err != nil {
		file.Close()
		return fmt.Errorf("save counters: %w", err)
	}
	bw := bufio.NewWriter(file)
	err = m.encode(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save counters to %s: %w", path, err)
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		dir.Sync()
		dir.Close()
	}
	return nil
}

func (m *memory) encode(w io.Writer) error {
	enc := gob.NewEncoder(w)
	if err := enc.Encode(fileFormat); err != nil {
		return err
	}
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		batch := make([]savedSeries, 0, len(sh.m))
		for k, s := range sh.m {
			ring := make([]savedBucket, len(s.ring))
			for i, b := range s.ring {
				ring[i] = savedBucket{b.idx, b.n}
			}
			batch = append(batch, savedSeries{Key: k.key, Width: k.width, Newest: s.newest, TTLMs: s.ttlMs, Ring: ring})
		}
		sh.mu.Unlock()
		if err := enc.Encode(batch); err != nil {
			return err
		}
	}
	// The sets follow the memShards series batches, one batch per shard.
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		batch := make([]savedSet, 0, len(sh.sets))
		for k, s := range sh.sets {
			batch = append(batch, savedSet{Key: k, TTLMs: s.ttlMs, Max: s.max, Seen: maps.Clone(s.seen)})
		}
		sh.mu.Unlock()
		if err := enc.Encode(batch); err != nil {
			return err
		}
	}
	return nil
}

// load reads a snapshot written by save; a missing file is an empty start.
func (m *memory) load(path string) error {
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load counters: %w", err)
	}
	defer file.Close()
	dec := gob.NewDecoder(bufio.NewReader(file))
	var format string
	if err := dec.Decode(&format); err != nil || (format != fileFormat && format != fileFormatV1) {
		return fmt.Errorf("load counters from %s: not a %s file (remove it to start with empty counts)", path, fileFormat)
	}
	for n := 0; ; n++ {
		if format == fileFormat && n == memShards {
			return m.loadSets(dec, path)
		}
		var batch []savedSeries
		err := dec.Decode(&batch)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("load counters from %s: %w (remove it to start with empty counts)", path, err)
		}
		for _, s := range batch {
			if s.Width <= 0 || len(s.Ring) == 0 {
				continue
			}
			sh := m.shard(s.Key)
			ring := make([]bucket, len(s.Ring))
			for i, b := range s.Ring {
				ring[i] = bucket{b.Idx, b.N}
			}
			sh.m[memKey{s.Key, s.Width}] = &series{ring: ring, newest: s.Newest, ttlMs: s.TTLMs}
		}
	}
}

// loadSets reads the sets section of a snapshot.
func (m *memory) loadSets(dec *gob.Decoder, path string) error {
	for {
		var batch []savedSet
		err := dec.Decode(&batch)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("load counter sets from %s: %w (remove it to start with empty counts)", path, err)
		}
		for _, s := range batch {
			if s.Max < 1 || s.TTLMs < 1 {
				continue
			}
			sh := m.shard(s.Key)
			if sh.sets == nil {
				sh.sets = map[string]*memSet{}
			}
			if s.Seen == nil {
				s.Seen = map[string]int64{}
			}
			sh.sets[s.Key] = &memSet{seen: s.Seen, ttlMs: s.TTLMs, max: s.Max}
		}
	}
}

package queue

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The spool keeps each message body in its own file. A body is written under
// tmp/, fsynced, renamed into msg/, and the directory is fsynced before the
// message's row is committed; only then does the client get its 250. A crash
// at any point leaves either no row (the client never got 250; the file is
// removed at start) or a row with its complete, durable file.
type spool struct {
	tmp, msg string
	dirFD    *os.File // msg/, kept open for fsync
}

func openSpool(dir string) (*spool, error) {
	s := &spool{tmp: filepath.Join(dir, "tmp"), msg: filepath.Join(dir, "msg")}
	for _, d := range []string{dir, s.tmp, s.msg} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("spool: create %s: %w", d, err)
		}
	}
	fd, err := os.Open(s.msg)
	if err != nil {
		return nil, fmt.Errorf("spool: open %s: %w", s.msg, err)
	}
	s.dirFD = fd
	return s, nil
}

func (s *spool) path(id string) string { return filepath.Join(s.msg, id) }

// syncDir makes the renames into msg/ durable.
func (s *spool) syncDir() error {
	if err := s.dirFD.Sync(); err != nil {
		return fmt.Errorf("spool: fsync %s: %w", s.msg, err)
	}
	return nil
}

func (s *spool) close() error { return s.dirFD.Close() }

// Writer receives one message body. Write to it, then Commit (in the queue) or
// Abort. It is not safe for concurrent use.
type Writer struct {
	q    *Queue
	id   string
	f    *os.File
	bw   *bufio.Writer
	n    int64
	done bool
	at   time.Time
}

// ID is the queue id the message will have.
func (w *Writer) ID() string { return w.id }

// Size is the number of bytes written so far.
func (w *Writer) Size() int64 { return w.n }

// Write appends to the body.
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.bw.Write(p)
	w.n += int64(n)
	return n, err
}

// Abort discards the body. It is safe to call after Commit (then it does
// nothing), so callers can defer it.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	os.Remove(w.f.Name())
}

// finish flushes, fsyncs and renames the body into msg/. The directory fsync
// and the row's commit follow in the committer, shared by concurrent sessions.
func (w *Writer) finish() error {
	if w.done {
		return errors.New("spool: writer already finished")
	}
	w.done = true
	name := w.f.Name()
	fail := func(err error) error {
		w.f.Close()
		os.Remove(name)
		return err
	}
	if err := w.bw.Flush(); err != nil {
		return fail(fmt.Errorf("spool: write %s: %w", w.id, err))
	}
	if err := w.f.Sync(); err != nil {
		return fail(fmt.Errorf("spool: fsync %s: %w", w.id, err))
	}
	if err := w.f.Close(); err != nil {
		return fail(fmt.Errorf("spool: close %s: %w", w.id, err))
	}
	if err := os.Rename(name, w.q.spool.path(w.id)); err != nil {
		os.Remove(name)
		return fmt.Errorf("spool: rename %s: %w", w.id, err)
	}
	return nil
}

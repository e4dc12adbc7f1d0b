package queue

import (
	"bufio"
	"io"
	"sync"
)

func newBufWriter(w io.Writer) *bufio.Writer { return bufio.NewWriterSize(w, 64<<10) }

// fifo is the in-memory list of messages ready for an attempt. It is
// unbounded (it holds metadata only, not bodies) so that Commit never blocks
// a session on a slow delivery side.
type fifo struct {
	mu     sync.Mutex
	items  []*Message
	head   int
	signal chan struct{}
	closed bool
}

func newFIFO() *fifo { return &fifo{signal: make(chan struct{}, 1)} }

// push adds m. After close it is kept for drain; the signal is sent under the
// lock so that it never races with close.
func (f *fifo) push(m *Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items = append(f.items, m)
	if !f.closed {
		select {
		case f.signal <- struct{}{}:
		default:
		}
	}
}

// pop waits for a message; it returns nil once the fifo is closed.
func (f *fifo) pop() *Message {
	for {
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			return nil
		}
		if f.head < len(f.items) {
			m := f.items[f.head]
			f.items[f.head] = nil
			f.head++
			if f.head == len(f.items) {
				f.items, f.head = f.items[:0], 0
			}
			if f.head < len(f.items) { // pass the wake-up on to another worker
				select {
				case f.signal <- struct{}{}:
				default:
				}
			}
			f.mu.Unlock()
			return m
		}
		f.mu.Unlock()
		<-f.signal
	}
}

func (f *fifo) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.signal)
	}
}

// drain returns what was never popped.
func (f *fifo) drain() []*Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append([]*Message(nil), f.items[f.head:]...)
	f.items, f.head = nil, 0
	return out
}

package smtp

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
)

// readAllWith drains a dataReader over in with reads of the given sizes,
// using read (the fast or the reference implementation).
func readAllWith(in []byte, bufSize int, sizes []byte, limit int64, fast bool) ([]byte, error, int) {
	dr := &dataReader{r: bufio.NewReaderSize(bytes.NewReader(in), bufSize)}
	if limit > 0 {
		dr.limited, dr.n = true, limit
	}
	var out []byte
	for i := 0; ; i++ {
		sz := 7
		if len(sizes) > 0 {
			sz = int(sizes[i%len(sizes)])%64 + 1
		}
		b := make([]byte, sz)
		var n int
		var err error
		if fast {
			n, err = dr.Read(b)
		} else {
			n, err = dr.referenceRead(b)
		}
		out = append(out, b[:n]...)
		if err != nil {
			return out, err, dr.state
		}
		if i > 1<<20 {
			return out, errors.New("no progress"), dr.state
		}
	}
}

func FuzzDataReaderEquivalence(f *testing.F) {
	for _, s := range []string{
		"hello\r\n.\r\n", "a\n.\nb\r\n.\r\n", "\r\n..x\r\n.\r\n", ".\r\r\n.\r\n", "x\r.\r\n.\r\n",
		"..\r\n.\r\n", "abc", "\r\r\r\n.\r\n", "line\r\n.\rX\r\n.\r\n",
	} {
		f.Add([]byte(s), byte(16), []byte{3, 200, 1}, int64(0))
	}
	f.Fuzz(func(t *testing.T, in []byte, bufSize byte, sizes []byte, limit int64) {
		bs := int(bufSize)%64 + 16 // bufio's minimum is 16
		if limit < 0 {
			limit = -limit
		}
		limit %= 1 << 16
		got, gerr, gstate := readAllWith(in, bs, sizes, limit, true)
		want, werr, wstate := readAllWith(in, bs, sizes, limit, false)
		if !bytes.Equal(got, want) || !errors.Is(gerr, werr) && gerr.Error() != werr.Error() || gstate != wstate {
			t.Fatalf("input %q: fast %q %v state %d, reference %q %v state %d", in, got, gerr, gstate, want, werr, wstate)
		}
	})
}

// referenceLineLimit is upstream's lineLimitReader.Read loop.
func referenceLineLimit(r *lineLimitReader, b []byte) (int, error) {
	if r.curLineLength > r.LineLimit && r.LineLimit > 0 {
		return 0, ErrTooLongLine
	}
	n, err := r.R.Read(b)
	if err != nil {
		return n, err
	}
	if r.LineLimit == 0 {
		return n, nil
	}
	for _, chr := range b[:n] {
		if chr == '\n' {
			r.curLineLength = 0
		}
		r.curLineLength++
		if r.curLineLength > r.LineLimit {
			return 0, ErrTooLongLine
		}
	}
	return n, nil
}

func FuzzLineLimitEquivalence(f *testing.F) {
	f.Add([]byte("short\nlines\n"), byte(5), byte(4))
	f.Add([]byte("0123456789\n01234567890123\n"), byte(10), byte(3))
	f.Fuzz(func(t *testing.T, in []byte, limit, chunk byte) {
		run := func(fast bool) (out []byte, err error) {
			lr := &lineLimitReader{R: bytes.NewReader(in), LineLimit: int(limit)}
			for {
				b := make([]byte, int(chunk)%32+1)
				var n int
				if fast {
					n, err = lr.Read(b)
				} else {
					n, err = referenceLineLimit(lr, b)
				}
				out = append(out, b[:n]...)
				if err != nil {
					return out, err
				}
			}
		}
		got, gerr := run(true)
		want, werr := run(false)
		if !bytes.Equal(got, want) || gerr != werr {
			t.Fatalf("input %q limit %d chunk %d: fast %q %v, reference %q %v", in, limit, chunk, got, gerr, want, werr)
		}
	})
}

package classify

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ReadCorpus reads labelled examples from each argument, in order:
//
//   - FILE.jsonl or FILE.jsonl.gz: one JSON object a line with "label"
//     ("spam" or "ham") and "text" (the raw message), as shared/corpus has;
//   - LABEL=PATH: every message of an mbox file, or every file of a folder
//     (.eml files), labelled LABEL;
//   - DIR: a folder with subfolders spam/ and ham/ of .eml files or mboxes.
//
// Folders are read in name order, so the same corpus always gives the same
// examples in the same order (and so the same model).
func ReadCorpus(args []string) ([]Example, error) {
	var out []Example
	for _, arg := range args {
		var ex []Example
		var err error
		label, path, labelled := strings.Cut(arg, "=")
		switch {
		case labelled && (label == "spam" || label == "ham"):
			ex, err = readLabelled(path, label == "spam")
		case labelled:
			return nil, fmt.Errorf("%s: label %q is neither spam nor ham", arg, label)
		case strings.HasSuffix(arg, ".jsonl") || strings.HasSuffix(arg, ".jsonl.gz"):
			ex, err = readJSONL(arg)
		default:
			ex, err = readLabelDirs(arg)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ex...)
	}
	return out, nil
}

type jsonlRecord struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	Text  string `json:"text"`
}

func readJSONL(path string) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<20)
	var out []Example
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var rec jsonlRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if rec.Label != "spam" && rec.Label != "ham" {
			return nil, fmt.Errorf("%s:%d: label %q is neither spam nor ham", path, line, rec.Label)
		}
		src := fmt.Sprintf("%s:%d", path, line)
		if rec.ID != "" {
			src = path + "#" + rec.ID
		}
		out = append(out, Example{Spam: rec.Label == "spam", Raw: []byte(rec.Text), Source: src})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// readLabelDirs reads DIR/ham and DIR/spam.
func readLabelDirs(dir string) ([]Example, error) {
	var out []Example
	found := false
	for _, label := range []string{"ham", "spam"} {
		sub := filepath.Join(dir, label)
		if _, err := os.Stat(sub); err != nil {
			continue
		}
		found = true
		ex, err := readLabelled(sub, label == "spam")
		if err != nil {
			return nil, err
		}
		out = append(out, ex...)
	}
	if !found {
		return nil, fmt.Errorf("%s: not a .jsonl(.gz) file, LABEL=PATH, or a folder with ham/ and spam/", dir)
	}
	return out, nil
}

// readLabelled reads an mbox file or a folder of message files (each an
// .eml or an mbox).
func readLabelled(path string, spam bool) ([]Example, error) {
	msgs, err := ReadMessages(path)
	if err != nil {
		return nil, err
	}
	out := make([]Example, len(msgs))
	for i, m := range msgs {
		out[i] = Example{Spam: spam, Raw: m.Raw, Source: m.Source}
	}
	return out, nil
}

// Message is one message read from a file.
type Message struct {
	Source string // the file, with "#N" for the Nth message of an mbox
	Raw    []byte
}

// ReadMessages reads path: a single message (.eml), an mbox (a file whose
// first line starts "From "), or a folder of either, in name order.
func ReadMessages(path string) ([]Message, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return readMessageFile(path)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var out []Message
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		m, err := readMessageFile(filepath.Join(path, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	return out, nil
}

func readMessageFile(path string) ([]Message, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !IsMbox(data) {
		return []Message{{Source: path, Raw: data}}, nil
	}
	parts := SplitMbox(data)
	out := make([]Message, len(parts))
	for i, p := range parts {
		out[i] = Message{Source: fmt.Sprintf("%s#%d", path, i+1), Raw: p}
	}
	return out, nil
}

// IsMbox reports whether data looks like an mbox: it starts with a
// "From " envelope line followed by a header line.
func IsMbox(data []byte) bool {
	if !bytes.HasPrefix(data, []byte("From ")) {
		return false
	}
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		return false
	}
	next, _, _ := bytes.Cut(data[i+1:], []byte("\n"))
	return bytes.IndexByte(next, ':') > 0
}

// SplitMbox splits an mbox into messages at "From " lines that start the
// file or follow a blank line, and undoes mboxrd quoting (">From " lines
// lose one ">"). Each message keeps no envelope line.
func SplitMbox(data []byte) [][]byte {
	var out [][]byte
	var cur []byte
	inMsg := false
	prevBlank := true
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line = data[:i+1]
		}
		data = data[len(line):]
		if prevBlank && bytes.HasPrefix(line, []byte("From ")) {
			if inMsg {
				out = append(out, cur)
			}
			cur, inMsg = nil, true
			prevBlank = false
			continue
		}
		if q := bytes.TrimLeft(line, ">"); len(q) < len(line) && bytes.HasPrefix(q, []byte("From ")) {
			line = line[1:]
		}
		if inMsg {
			cur = append(cur, line...)
		}
		prevBlank = len(bytes.TrimRight(line, "\r\n")) == 0
	}
	if inMsg {
		out = append(out, cur)
	}
	return out
}

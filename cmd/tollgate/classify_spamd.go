package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// spamc speaks SpamAssassin's spamd protocol (SPAMC/1.5 CHECK), for the
// evaluation only: the gateway's engines are the built-in one and rspamd.
type spamc struct {
	addr    string
	timeout time.Duration
}

// score sends one message and returns spamd's score and its spam verdict.
func (s *spamc) score(raw []byte) (float64, bool, error) {
	conn, err := net.DialTimeout("tcp", s.addr, s.timeout)
	if err != nil {
		return 0, false, fmt.Errorf("spamd %s: %w", s.addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(s.timeout))
	if _, err := fmt.Fprintf(conn, "CHECK SPAMC/1.5\r\nContent-length: %d\r\n\r\n", len(raw)); err != nil {
		return 0, false, fmt.Errorf("spamd %s: %w", s.addr, err)
	}
	if _, err := conn.Write(raw); err != nil {
		return 0, false, fmt.Errorf("spamd %s: %w", s.addr, err)
	}
	conn.(*net.TCPConn).CloseWrite()
	br := bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil {
		return 0, false, fmt.Errorf("spamd %s: %w", s.addr, err)
	}
	if !strings.Contains(status, " 0 EX_OK") {
		return 0, false, fmt.Errorf("spamd %s: %s", s.addr, strings.TrimSpace(status))
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return 0, false, fmt.Errorf("spamd %s: %w", s.addr, err)
		}
		// Spam: True ; 15.2 / 5.0
		if v, ok := strings.CutPrefix(line, "Spam: "); ok {
			verdict, rest, _ := strings.Cut(v, ";")
			scoreStr, _, _ := strings.Cut(rest, "/")
			sc, perr := strconv.ParseFloat(strings.TrimSpace(scoreStr), 64)
			if perr != nil {
				return 0, false, fmt.Errorf("spamd %s: bad Spam line %q", s.addr, line)
			}
			return sc, strings.TrimSpace(verdict) == "True", nil
		}
		if err == io.EOF || strings.TrimSpace(line) == "" {
			return 0, false, fmt.Errorf("spamd %s: no Spam line in the answer", s.addr)
		}
	}
}

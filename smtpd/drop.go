package smtpd

import (
	"fmt"
	"io"
)

// discardData ends a transaction whose every recipient was dropped (the
// suppression list with suppression_action = "drop"): the client gets the
// 250 it would have had, the body goes nowhere, and the trace says why. The
// body is read through the same size limit as any other.
func (s *session) discardData(r io.Reader) error {
	n, err := io.Copy(io.Discard, &strictReader{r: r})
	if err != nil {
		return s.refuse("data", s.dataError(err))
	}
	s.record("data", "drop", "suppression", fmt.Sprintf("every recipient was dropped: %d bytes discarded, nothing queued", n),
		"dropped", fmt.Sprint(s.dropped))
	return nil
}

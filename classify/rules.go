package classify

import "slices"

// Fixed rules: signals too rare in any training corpus for a model to learn
// a weight, but that an admin expects to count. Their weights are in score
// (log-odds) units and are part of the score the threshold applies to.
const (
	// weightMIMELimit: a structure deeper or wider than the caps is built to
	// hide content from filters; ordinary mail never comes near them.
	weightMIMELimit = 1.5
	// weightExecutable: executable attachments are how malware travels.
	weightExecutable = 3.0
)

// executableKinds are attachment extensions that run when opened.
var executableKinds = []string{"exe", "scr", "com", "pif", "bat", "cmd", "vbs", "vbe", "js", "jse", "wsf", "hta", "msi", "jar", "lnk", "ps1", "cpl"}

// fixedRules returns the fixed rules' total weight and the reasons for it.
func fixedRules(d *document) (float64, []Reason) {
	var total float64
	var reasons []Reason
	if d.limitHit {
		total += weightMIMELimit
		reasons = append(reasons, Reason{"MIME_LIMIT", weightMIMELimit})
	}
	for _, a := range d.attachments {
		if slices.Contains(executableKinds, a) {
			total += weightExecutable
			reasons = append(reasons, Reason{"ATTACH_EXECUTABLE", weightExecutable})
			break
		}
	}
	return total, reasons
}

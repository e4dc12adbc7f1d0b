package classify

import "slices"

// Fixed rules: signals too rare in the training corpus (2002 mail) for a
// model to learn a weight, but that mark today's spam and phishing and
// almost never legitimate mail. Their weights are log-odds (a weight of 2
// multiplies the odds of spam by e² ≈ 7.4), set by hand, the same at any
// base rate, and part of the score the threshold applies to. Each is one
// named reason in the trace.
const (
	// weightMIMELimit: a structure deeper or wider than the caps is built to
	// hide content from filters; ordinary mail never comes near them.
	weightMIMELimit = 1.5
	// weightExecutable: executable attachments are how malware travels;
	// large mailbox providers refuse them outright, so no legitimate sender
	// relies on them: decisive on its own.
	weightExecutable = 5.0
	// weightMacro: Office documents with macros (.docm, .xlsm) are the
	// other way; legitimate mail sends .docx and .pdf.
	weightMacro = 2.5
	// weightLinkTextHost: a link that shows one site and goes to another
	// (the sender's own site excepted) is phishing's signature.
	weightLinkTextHost = 2.5
	// weightShortener: a shortened link hides its target; mail programs
	// and platforms link directly.
	weightShortener = 1.5
	// weightZeroWidth: invisible characters inside words split them for a
	// filter and not for the reader.
	weightZeroWidth = 2.5
	// weightMixedScript per word mixing Latin with Cyrillic or Greek
	// look-alike letters ("Аррlе"), at most two words counted.
	weightMixedScript = 1.25
	// weightHiddenText: a lot of text the reader never sees (display:none,
	// font-size 0) is filler against filters; a preheader is short.
	weightHiddenText = 2.0
	// hiddenTextLetters is "a lot": a preheader has 40–150 letters.
	hiddenTextLetters = 250
	// weightForm: a login form inside the mail; weightScript: scripts,
	// which no mail client runs; weightMetaRefresh: a redirect on opening.
	weightForm        = 1.5
	weightScript      = 1.0
	weightMetaRefresh = 1.5
	// A missing Date or Message-ID is weak (some submission programs leave
	// them to the next server); a malformed one is forged.
	weightMissingDate  = 0.5
	weightMissingMsgID = 0.5
	weightBadDate      = 1.0
	weightBadMsgID     = 1.0
)

// executableKinds are attachment extensions that run when opened (or
// mount as a disk, as .iso and .img do on Windows).
var executableKinds = []string{"exe", "scr", "com", "pif", "bat", "cmd", "vbs", "vbe", "js", "jse", "wsf", "wsh", "hta",
	"msi", "jar", "lnk", "ps1", "cpl", "iso", "img", "vhd", "vhdx", "reg", "chm"}

// macroKinds are Office formats that carry macros.
var macroKinds = []string{"docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppam", "sldm"}

// fixedRules returns the fixed rules' total weight and the reasons for it.
func fixedRules(d *document) (float64, []Reason) {
	var total float64
	var reasons []Reason
	add := func(name string, w float64) {
		total += w
		reasons = append(reasons, Reason{name, w})
	}
	if d.limitHit {
		add("MIME_LIMIT", weightMIMELimit)
	}
	exe, macro := false, false
	for _, a := range d.attachments {
		exe = exe || slices.Contains(executableKinds, a)
		macro = macro || slices.Contains(macroKinds, a)
	}
	if exe {
		add("ATTACH_EXECUTABLE", weightExecutable)
	}
	if macro {
		add("ATTACH_MACRO", weightMacro)
	}
	if len(d.tricks.linkTextHosts) > 0 {
		sender := ""
		if d.fromDomain != "" {
			sender = registrable(d.fromDomain)
		}
		for _, p := range d.tricks.linkTextHosts {
			if registrable(p.text) != sender {
				add("LINK_TEXT_OTHER_HOST ("+p.text+" → "+p.href+")", weightLinkTextHost)
				break
			}
		}
	}
	if d.shortener {
		add("URL_SHORTENER", weightShortener)
	}
	if d.zeroWidth >= 2 {
		add("ZERO_WIDTH_IN_WORDS", weightZeroWidth)
	}
	if d.mixedScript > 0 {
		add("MIXED_SCRIPT_WORDS", weightMixedScript*float64(min(d.mixedScript, 2)))
	}
	if d.tricks.hiddenLetters >= hiddenTextLetters {
		add("HTML_HIDDEN_TEXT", weightHiddenText)
	}
	if d.tricks.form {
		add("HTML_FORM", weightForm)
	}
	if d.tricks.script {
		add("HTML_SCRIPT", weightScript)
	}
	if d.tricks.metaRefresh {
		add("HTML_META_REFRESH", weightMetaRefresh)
	}
	if d.header.Len() > 0 {
		switch {
		case !d.hasDate:
			add("MISSING_DATE", weightMissingDate)
		case !d.dateOK:
			add("DATE_INVALID", weightBadDate)
		}
		switch {
		case !d.hasMsgID:
			add("MISSING_MESSAGE_ID", weightMissingMsgID)
		case !d.msgIDOK:
			add("MESSAGE_ID_INVALID", weightBadMsgID)
		}
	}
	return total, reasons
}

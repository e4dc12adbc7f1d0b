package api

import (
	"html/template"
	"net/http"
	"regexp"

	"github.com/tollgate-mail/tollgate/help"
)

var codeRE = regexp.MustCompile(`^[245]\.\d{1,3}\.\d{1,3}$`)

var ndrPage = template.Must(template.New("ndr").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Code}}: {{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#111}
code{background:#eee;padding:.1rem .3rem}section{border-left:4px solid #888;padding-left:1rem;margin:1.5rem 0}</style>
</head><body>
<h1>{{.Code}}: {{.Title}}</h1>
{{if .Reply}}<p>SMTP reply: <code>{{.Reply}}</code></p>{{end}}
<p>{{.Cause}}</p>
<section><h2>For the sender</h2><p>{{.Sender}}</p></section>
<section><h2>For the email admin</h2><p>{{.Admin}}</p></section>
<p><small>Tollgate outbound gateway</small></p>
</body></html>`))

// ndr serves the help page of one status code.
func (s *Server) ndr(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if !codeRE.MatchString(code) {
		http.Error(w, "not a status code: use the form 5.7.64", http.StatusBadRequest)
		return
	}
	p, ok := help.Lookup(code)
	if !ok {
		http.Error(w, "no help page for "+code, http.StatusNotFound)
		return
	}
	p.Code = code
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	ndrPage.Execute(w, p)
}

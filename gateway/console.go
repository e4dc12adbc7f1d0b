package gateway

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/tollgate-mail/tollgate/api"
	"github.com/tollgate-mail/tollgate/config"
	"github.com/tollgate-mail/tollgate/console"
)

// serveAdmin serves the admin HTTP port: the web console under /console/
// (which gets its data from the API handler in-process), a redirect to it
// from /, and everything else (the API, metrics, help pages) from the API.
// cookieKey signs the console's cookies: the store's install secret, the
// same on every node of a fleet.
func serveAdmin(ln net.Listener, a *api.Server, cfg *config.Config, cookieKey []byte, log *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle(console.Prefix, console.New(console.Options{API: a.Handler(),
		SecureCookies: strings.HasPrefix(cfg.Admin.PublicURL, "https://"), CookieKey: cookieKey, Logger: log}))
	mux.Handle("GET /{$}", http.RedirectHandler(console.Prefix, http.StatusSeeOther))
	mux.Handle("/", a.Handler())
	srv := &http.Server{Handler: securityHeaders(mux, strings.HasPrefix(cfg.Admin.PublicURL, "https://")), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin HTTP server stopped", "err", err)
		}
	}()
	return srv
}

// securityHeaders sets what every answer of the admin port should carry:
// no content sniffing (an API answer can never be run as a script), and,
// when the port is published over HTTPS, HSTS so browsers never fall back
// to plain HTTP with the session cookie.
func securityHeaders(h http.Handler, https bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if https {
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.ServeHTTP(w, r)
	})
}

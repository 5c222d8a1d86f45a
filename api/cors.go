package api

import (
	"fmt"
	"net/http"
)

// originSet holds the normalized origins whose pages may call the API.
type originSet map[string]bool

func newOriginSet(list []string) (originSet, error) {
	set := make(originSet, len(list))
	for _, o := range list {
		n, err := normalizeOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("api: api_cors_allow_origins: %w", err)
		}
		set[n] = true
	}
	return set, nil
}

// allows reports whether a request with this Origin header may be served:
// no Origin (not a cross-origin browser request) or a listed one. The
// header is compared as sent, since browsers already send it normalized.
func (o originSet) allows(origin string) bool {
	return origin == "" || o[origin]
}

// setCORS names origin, a listed origin, as the one allowed to read the
// reply, with the methods and headers Sora's API takes. It is never called
// for an origin that is not listed, so no Origin is ever reflected blindly.
func setCORS(h http.Header, origin string) {
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Origin, X-Requested-With, Content-Type, Accept, x-sora-target")
	h.Set("Access-Control-Max-Age", "1000")
}

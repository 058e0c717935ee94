package fpstest

import (
	"net/http"
	"net/url"
)

// handOver gives n, signed, to Config.OnIPN, when set. The sender signs
// the same parameters again later, to the same body: RSA-SHA1 signatures
// (PKCS #1 v1.5) are deterministic.
func (p *ipnSender) handOver(n notification) {
	onIPN := p.s.cfg.OnIPN
	if onIPN == nil {
		return
	}
	u, err := url.Parse(n.url)
	if err != nil {
		return
	}
	if err := p.s.signOutbound(http.MethodPost, u, n.params); err != nil {
		return
	}
	onIPN(n.url, n.params.Encode())
}

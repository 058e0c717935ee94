package fps_test

import (
	"crypto/rsa"
	"testing"

	"github.com/fpskit/fps/internal/msgtest"
)

// The test keys, signed messages and certificates are those of package
// msgtest, which the handlers' tests share.

func testKey(t testing.TB) *rsa.PrivateKey  { return msgtest.Key(t, 0) }
func testKey2(t testing.TB) *rsa.PrivateKey { return msgtest.Key(t, 1) }

const pinnedCertURL = msgtest.PinnedCertURL

var (
	pinnedVerifier = msgtest.PinnedVerifier
	signReturn     = msgtest.SignReturn
	signIPN        = msgtest.SignIPN
	payParams      = msgtest.PayParams
	newPKI         = msgtest.NewPKI
)

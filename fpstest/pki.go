package fpstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"time"
)

// pki is the simulator's own test CA, its TLS certificate and the RSA key
// (with its certificate) that signs return URLs and IPNs.
type pki struct {
	caPEM   []byte
	pool    *x509.CertPool
	tlsCert tls.Certificate
	signKey *rsa.PrivateKey
	certPEM []byte
	certID  string
}

func newPKI(host string, signKey *rsa.PrivateKey, now time.Time) (*pki, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	notBefore := now.Add(-time.Hour)
	notAfter := now.AddDate(10, 0, 0)
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"fpstest"}, CommonName: "fpstest simulator test CA"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	p := &pki{pool: x509.NewCertPool(), caPEM: pemCert(caDER)}
	p.pool.AddCert(ca)

	// TLS leaf for 127.0.0.1, localhost and the listen host.
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"fpstest"}, CommonName: "localhost"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if ip := net.ParseIP(host); ip != nil && !ip.IsLoopback() {
		leafTmpl.IPAddresses = append(leafTmpl.IPAddresses, ip)
	} else if ip == nil && host != "localhost" && host != "" {
		leafTmpl.DNSNames = append(leafTmpl.DNSNames, host)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	p.tlsCert = tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey}

	// The outbound signing key and its certificate (PKICert.pem).
	if signKey == nil {
		if signKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, err
		}
	}
	p.signKey = signKey
	signTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"fpstest"}, CommonName: "fps.sandbox.amazonaws.com (simulated)"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		// Issued to the host it is served from, as a verifier checks.
		DNSNames:    leafTmpl.DNSNames,
		IPAddresses: leafTmpl.IPAddresses,
	}
	signDER, err := x509.CreateCertificate(rand.Reader, signTmpl, ca, &signKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	p.certPEM = pemCert(signDER)
	p.certID = now.UTC().Format("060102")
	return p, nil
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

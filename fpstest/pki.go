package fpstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
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

// keptKeys is what the state keeps of the simulator's keys, so that a
// simulator started again on it is the same CA and signs with the same
// key under the same certificateUrl: the CA's key and certificate, the
// signing key, the certificate's id. They are a test sandbox's keys,
// kept in the clear.
type keptKeys struct {
	CAKey   []byte // PKCS #8
	CACert  []byte // DER
	SignKey []byte // PKCS #8
	CertID  string
}

// newPKI returns the simulator's keys and certificates for host at now:
// those of kept (the encoded keptKeys of an earlier run) when it is not
// empty, else new ones; signKey, when not nil, replaces the signing key.
// The TLS and signing certificates are issued anew, by the CA, for host.
// It returns the keys to keep.
func newPKI(host string, signKey *rsa.PrivateKey, now time.Time, kept []byte) (*pki, []byte, error) {
	var (
		k     keptKeys
		ca    *x509.Certificate
		caKey crypto.Signer
		err   error
	)
	if len(kept) > 0 {
		if ca, caKey, signKey, err = k.decode(kept, signKey); err != nil {
			return nil, nil, fmt.Errorf("fpstest: the kept keys: %w", err)
		}
	} else {
		if ca, caKey, err = newCA(now); err != nil {
			return nil, nil, err
		}
		k.CertID = now.UTC().Format("060102")
	}
	if signKey == nil {
		if signKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, nil, err
		}
	}
	p := &pki{pool: x509.NewCertPool(), caPEM: pemCert(ca.Raw), signKey: signKey, certID: k.CertID}
	p.pool.AddCert(ca)
	notBefore := now.Add(-time.Hour)
	notAfter := now.AddDate(10, 0, 0)

	// TLS leaf for 127.0.0.1, localhost and the listen host.
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
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
		return nil, nil, err
	}
	p.tlsCert = tls.Certificate{Certificate: [][]byte{leafDER, ca.Raw}, PrivateKey: leafKey}

	// The outbound signing key's certificate (PKICert.pem).
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
		return nil, nil, err
	}
	p.certPEM = pemCert(signDER)
	keys, err := k.encode(ca, caKey, signKey)
	if err != nil {
		return nil, nil, err
	}
	return p, keys, nil
}

// newCA returns a new test CA, valid from an hour before now for ten
// years, and its key.
func newCA(now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"fpstest"}, CommonName: "fpstest simulator test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	ca, err := x509.ParseCertificate(der)
	return ca, key, err
}

// decode reads the kept keys into k; signKey, when not nil, replaces the
// signing key kept.
func (k *keptKeys) decode(kept []byte, signKey *rsa.PrivateKey) (*x509.Certificate, crypto.Signer, *rsa.PrivateKey, error) {
	if err := json.Unmarshal(kept, k); err != nil {
		return nil, nil, nil, err
	}
	ca, err := x509.ParseCertificate(k.CACert)
	if err != nil {
		return nil, nil, nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(k.CAKey)
	if err != nil {
		return nil, nil, nil, err
	}
	caKey, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, nil, fmt.Errorf("the CA key is a %T", key)
	}
	if signKey == nil {
		if key, err = x509.ParsePKCS8PrivateKey(k.SignKey); err != nil {
			return nil, nil, nil, err
		}
		if signKey, ok = key.(*rsa.PrivateKey); !ok {
			return nil, nil, nil, fmt.Errorf("the signing key is a %T", key)
		}
	}
	return ca, caKey, signKey, nil
}

// encode returns k with the keys given, encoded.
func (k keptKeys) encode(ca *x509.Certificate, caKey crypto.Signer, signKey *rsa.PrivateKey) ([]byte, error) {
	var err error
	if k.CAKey, err = x509.MarshalPKCS8PrivateKey(caKey); err != nil {
		return nil, err
	}
	if k.SignKey, err = x509.MarshalPKCS8PrivateKey(signKey); err != nil {
		return nil, err
	}
	k.CACert = ca.Raw
	return json.Marshal(k)
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

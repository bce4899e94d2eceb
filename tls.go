package ofactor

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
)

// tlsConfig loads the PEM files of an ssl: target into a client TLS
// configuration that checks the switch the way OVS's stream-ssl does: its
// certificate must chain to CACert; the host name is not checked (switches
// are named by address, and OVS's own certificates carry no host names).
// It returns nil for targets other than ssl:, and an error if any file is
// given for one: they would be ignored, and the connection in clear.
func (f TLSFiles) tlsConfig(target string) (*tls.Config, error) {
	if !strings.HasPrefix(target, "ssl:") {
		if f != (TLSFiles{}) {
			return nil, fmt.Errorf("%s: TLS files (--private-key, --certificate, --ca-cert) apply to ssl: targets only", target)
		}
		return nil, nil
	}
	var missing []string
	for _, m := range []struct{ name, path string }{
		{"--private-key", f.PrivateKey}, {"--certificate", f.Certificate}, {"--ca-cert", f.CACert},
	} {
		if m.path == "" {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: ssl needs %s", target, strings.Join(missing, ", "))
	}
	cert, err := tls.LoadX509KeyPair(f.Certificate, f.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("%s: certificate %s with private key %s: %w", target, f.Certificate, f.PrivateKey, err)
	}
	pem, err := os.ReadFile(f.CACert)
	if err != nil {
		return nil, fmt.Errorf("%s: ca-cert: %w", target, err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: ca-cert %s: no PEM certificate in it", target, f.CACert)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		// The chain is checked in VerifyPeerCertificate below, without the
		// host name check that crypto/tls would add.
		InsecureSkipVerify:    true,
		VerifyPeerCertificate: verifyChain(roots),
	}, nil
}

// verifyChain checks that the peer's certificate chains to roots.
func verifyChain(roots *x509.CertPool) func([][]byte, [][]*x509.Certificate) error {
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("switch sent no certificate")
		}
		certs := make([]*x509.Certificate, len(raw))
		for i, r := range raw {
			c, err := x509.ParseCertificate(r)
			if err != nil {
				return fmt.Errorf("switch certificate %d: %w", i, err)
			}
			certs[i] = c
		}
		inter := x509.NewCertPool()
		for _, c := range certs[1:] {
			inter.AddCert(c)
		}
		_, err := certs[0].Verify(x509.VerifyOptions{
			Roots:         roots,
			Intermediates: inter,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		})
		if err != nil {
			return fmt.Errorf("switch certificate %q: %w", certs[0].Subject.CommonName, err)
		}
		return nil
	}
}

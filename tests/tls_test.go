package tests

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/ovstest"
)

// pki is a CA and the certificates it signed, as PEM files in a directory.
type pki struct {
	dir  string
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	// CACert is the CA's certificate file.
	CACert string
}

var serial int64

func newPKI(t *testing.T, dir, name string) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: name + " CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p := &pki{dir: dir, key: key, cert: cert, CACert: filepath.Join(dir, name+"-cacert.pem")}
	writePEM(t, p.CACert, "CERTIFICATE", der)
	return p
}

// issue makes a certificate and key for name, returning their file names.
func (p *pki) issue(t *testing.T, name string) (keyFile, certFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile, certFile = filepath.Join(p.dir, name+"-privkey.pem"), filepath.Join(p.dir, name+"-cert.pem")
	writePEM(t, keyFile, "PRIVATE KEY", kder)
	writePEM(t, certFile, "CERTIFICATE", der)
	return keyFile, certFile
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// sslSwitch makes the bridge listen on pssl:PORT:127.0.0.1 with a
// certificate of ca, trusting client certificates of ca, and returns the
// ssl: target.
func sslSwitch(t *testing.T, sw *ovstest.Switch, ca *pki) string {
	t.Helper()
	key, cert := ca.issue(t, "switch")
	if out, err := sw.Vsctl("set-ssl", key, cert, ca.CACert); err != nil {
		t.Fatalf("set-ssl: %v %s", err, out)
	}
	port := freePort(t)
	if out, err := sw.Vsctl("set-controller", sw.Bridge, fmt.Sprintf("pssl:%d:127.0.0.1", port)); err != nil {
		t.Fatalf("set-controller: %v %s", err, out)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ovs-vswitchd does not listen on pssl:%s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "ssl:" + addr
}

// ofactor installs a table over ssl: with the switch's CA; with another CA
// or a client certificate the switch does not trust it installs nothing
// and says why; without the TLS files it refuses to start.
func TestTLS(t *testing.T) {
	sw := ovstest.Start(t)
	dir := t.TempDir()
	ca := newPKI(t, dir, "good")
	other := newPKI(t, dir, "other")
	target := sslSwitch(t, sw, ca)
	key, cert := ca.issue(t, "ofactor")
	okey, ocert := other.issue(t, "stranger")

	tlsArgs := func(key, cert, cacert string) []string {
		return append([]string{"--private-key", key, "--certificate", cert, "--ca-cert", cacert,
			"--timeout", "4s", "--log-level", "info"}, sampleArgs(t)...)
	}
	t.Run("WrongCA", func(t *testing.T) {
		res := runOnce(t, target, tlsArgs(key, cert, other.CACert)...)
		if res.code == 0 {
			t.Fatal("exit 0 with a CA that did not sign the switch's certificate")
		}
		t.Logf("wrong CA: %s", firstLine(res.stderr, "unknown authority"))
		if !strings.Contains(res.stderr, "certificate signed by unknown authority") {
			t.Errorf("stderr does not say the switch's certificate is not trusted:\n%s", tail(res.stderr, 20))
		}
	})
	t.Run("UntrustedClient", func(t *testing.T) {
		res := runOnce(t, target, tlsArgs(okey, ocert, ca.CACert)...)
		if res.code == 0 {
			t.Fatal("exit 0 with a client certificate the switch does not trust")
		}
		t.Logf("untrusted client: %s", firstLine(res.stderr, "tls"))
		if !strings.Contains(res.stderr, "tls") {
			t.Errorf("stderr does not name the TLS failure:\n%s", tail(res.stderr, 20))
		}
	})
	t.Run("NoClientCertificate", func(t *testing.T) {
		res := runOnce(t, target, append([]string{"--ca-cert", ca.CACert, "--timeout", "4s"}, sampleArgs(t)...)...)
		if res.code == 0 {
			t.Fatal("exit 0 without a client certificate")
		}
		if strings.Contains(res.stderr, "panic") || !strings.Contains(res.stderr, "--certificate") {
			t.Errorf("want a clear error naming --private-key and --certificate, got:\n%s", tail(res.stderr, 20))
		}
	})
	if flows, err := sw.DumpFlows(); err != nil || len(flows) != 0 {
		t.Fatalf("after refused connections the bridge has %d flows (%v)", len(flows), err)
	}
	res := runOnce(t, target, tlsArgs(key, cert, ca.CACert)...)
	if res.code != 0 {
		t.Fatalf("ssl: exit %d\n%s", res.code, tail(res.stderr, 20))
	}
	checkInstalled(t, sw)
	// At info level: no key material, no flow table.
	keyPEM, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	keyBody := strings.Split(string(keyPEM), "\n")[1]
	if strings.Contains(res.stderr, "PRIVATE KEY") || strings.Contains(res.stderr, keyBody) {
		t.Errorf("the log shows key material:\n%s", tail(res.stderr, 20))
	}
	if n := strings.Count(res.stderr, "actions="); n > 5 {
		t.Errorf("the log at info level holds %d flows", n)
	}
}

// An ssl: target's first bytes on the wire are a TLS handshake, never an
// OpenFlow HELLO in clear.
func TestTLSNothingInClear(t *testing.T) {
	dir := t.TempDir()
	ca := newPKI(t, dir, "ca")
	key, cert := ca.issue(t, "ofactor")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		b := make([]byte, 3)
		_, err = c.Read(b)
		if err != nil {
			b = nil
		}
		got <- b
	}()
	res := runOnce(t, "ssl:"+l.Addr().String(), "--private-key", key, "--certificate", cert,
		"--ca-cert", ca.CACert, "--timeout", "2s")
	if res.code == 0 {
		t.Fatal("exit 0 against a listener that never answered")
	}
	b := <-got
	// A TLS record: content type 22 (handshake), version 3.x. An OpenFlow
	// HELLO would start 0x04 0x00.
	if len(b) < 3 || b[0] != 0x16 || b[1] != 0x03 {
		t.Fatalf("first bytes % x: not a TLS handshake record", b)
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// firstLine returns the first line of s containing sub.
func firstLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

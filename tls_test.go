package ofactor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TLS files that do not load are refused by name before anything dials.
func TestTLSFilesErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct {
		target string
		files  TLSFiles
		want   string // "" : no error and no TLS config
	}{
		{"unix:/x", TLSFiles{}, ""},
		{"tcp:1.2.3.4", TLSFiles{PrivateKey: missing}, "apply to ssl: targets only"},
		{"unix:/x", TLSFiles{CACert: junk}, "apply to ssl: targets only"},
		{"ssl:1.2.3.4", TLSFiles{}, "ssl needs --private-key, --certificate, --ca-cert"},
		{"ssl:1.2.3.4", TLSFiles{PrivateKey: junk, CACert: junk}, "ssl needs --certificate"},
		{"ssl:1.2.3.4", TLSFiles{PrivateKey: missing, Certificate: missing, CACert: junk}, "missing.pem"},
		{"ssl:1.2.3.4", TLSFiles{PrivateKey: junk, Certificate: junk, CACert: junk}, "junk.pem"},
	} {
		cfg, err := tc.files.tlsConfig(tc.target)
		switch {
		case tc.want == "" && (err != nil || cfg != nil):
			t.Errorf("%s %+v: %v, %v; want no TLS and no error", tc.target, tc.files, cfg, err)
		case tc.want != "" && (err == nil || cfg != nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %+v: error %v, want one containing %q", tc.target, tc.files, err, tc.want)
		}
	}
}

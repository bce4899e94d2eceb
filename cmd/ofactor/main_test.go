package main

import (
	"bytes"
	"strings"
	"testing"
)

// --help, version and run --help print to standard output and exit 0, as
// ovs-ofctl's do; an unknown command is a usage error.
func TestHelpAndVersion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, 0, "usage: ofactor COMMAND [ARG...]"},
		{[]string{"--version"}, 0, "ofactor "},
		{[]string{"version"}, 0, "ofactor "},
		{[]string{"run", "--help"}, 0, "--metrics-addr ADDR"},
		{[]string{"frobnicate"}, 2, ""},
		{[]string{"run", "--config", "x.yaml", "--flows", "f"}, 2, ""},
	} {
		var out, errb bytes.Buffer
		code := dispatch(tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(out.String(), tc.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", tc.args, code, out.String(), errb.String())
		}
	}
}

package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at build time: go build -ldflags "-X main.version=1.2.3".
// Without it, the module version or VCS revision from the build info is used.
var version = ""

// versionString is "ofactor VERSION" as ovs-ofctl --version's first line.
func versionString() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "" {
		v = bi.Main.Version
		if v == "" || v == "(devel)" {
			v = "devel"
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					v += "-" + s.Value[:12]
				}
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	return "ofactor " + v
}

func versionCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "ofactor: version takes no arguments\n")
		return 2
	}
	fmt.Fprintf(stdout, "%s\n%s %s/%s\n",
		versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return 0
}

// Command ofbench measures ofactor against ovs-ofctl on private switches.
package main

import (
	"os"

	"github.com/ofactor/ofactor/internal/fleetproc"
)

func main() {
	// ofbench fleet runs its members as ofbench again (fleetproc.Start).
	fleetproc.MaybeMain()
	if len(os.Args) > 1 && os.Args[1] == "fleet" {
		os.Exit(fleetCmd(os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "hold" {
		os.Exit(holdCmd(os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 2 && os.Args[1] == "fake" {
		// A fake switch on a unix socket until killed, for measuring by hand.
		f, err := startFake(os.Args[2])
		if err != nil {
			os.Stderr.WriteString("ofbench fake: " + err.Error() + "\n")
			os.Exit(1)
		}
		defer f.close()
		select {}
	}
	if len(os.Args) > 1 && os.Args[1] == "churn" {
		os.Exit(churnCmd(os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "gen" {
		os.Exit(genCmd(os.Args[2:], os.Stderr))
	}
	os.Exit(benchCmd(os.Args[1:], os.Stdout, os.Stderr))
}

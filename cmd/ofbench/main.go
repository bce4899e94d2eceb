// Command ofbench measures ofactor against ovs-ofctl on private switches.
package main

import (
	"os"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "hold" {
		os.Exit(holdCmd(os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "gen" {
		os.Exit(genCmd(os.Args[2:], os.Stderr))
	}
	os.Exit(benchCmd(os.Args[1:], os.Stdout, os.Stderr))
}

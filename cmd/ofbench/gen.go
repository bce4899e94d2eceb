package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/ofactor/ofactor/internal/flowgen"
)

// genCmd writes a generated table: ofbench gen -n N [-every K -add A] FILE.
func genCmd(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 100000, "flows")
	every := fs.Int("every", 0, "change the actions of every K-th flow (0: none)")
	add := fs.Int("add", 0, "flows to add after the n")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: ofbench gen [-n N] [-every K] [-add A] FILE")
		return 2
	}
	if err := flowgen.WriteFile(fs.Arg(0), flowgen.Changed(*n, *every, *add)); err != nil {
		fmt.Fprintln(stderr, "ofbench:", err)
		return 1
	}
	return 0
}

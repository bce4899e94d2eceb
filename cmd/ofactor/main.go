// Command ofactor keeps an Open vSwitch bridge's OpenFlow tables equal to
// flows, groups and meters files written in ovs-ofctl's syntax, and turns
// such files into OpenFlow messages.
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sort"
	"syscall"
)

// command is one subcommand: its run function gets the arguments after
// the command's name and returns the exit status.
type command struct {
	run      func(args []string, stdout, stderr io.Writer) int
	synopsis string // as the usage shows it
	summary  string
}

var commands = map[string]command{
	"run": {runCmd, "run [OPTIONS]",
		"keep a bridge's tables equal to flows, groups and meters files"},
	"encode": {encodeCmd, "encode --flows FILE [--groups FILE] [--meters FILE] [--version V]",
		"write the files as OpenFlow messages (ovs-ofctl ofp-parse reads them)"},
	"diff": {diffCmd, "diff --flows FILE [--groups FILE] [--meters FILE]",
		"print what run --once would change on the switch, changing nothing"},
	"check": {checkCmd, "check --flows FILE [--groups FILE] [--meters FILE]",
		"diff, and have the switch judge the change in a bundle it then discards"},
	"dump": {dumpCmd, "dump [--flows FILE] [--groups FILE] [--meters FILE]",
		"write what the switch holds as files that run --once takes back unchanged"},
	"version": {versionCmd, "version", "print the version"},
}

func main() {
	os.Exit(profiled(func() int { return dispatch(os.Args[1:], os.Stdout, os.Stderr) }))
}

// profiled runs f, writing a CPU profile to $OFACTOR_CPUPROFILE when that
// is set, and a heap profile to $OFACTOR_MEMPROFILE on each SIGUSR1
// (docs/performance.md).
func profiled(f func() int) int {
	if path := os.Getenv("OFACTOR_MEMPROFILE"); path != "" {
		usr1 := make(chan os.Signal, 1)
		signal.Notify(usr1, syscall.SIGUSR1)
		go func() {
			for range usr1 {
				runtime.GC()
				if out, err := os.Create(path); err == nil {
					pprof.WriteHeapProfile(out)
					out.Close()
				}
			}
		}()
	}
	path := os.Getenv("OFACTOR_CPUPROFILE")
	if path == "" {
		return f()
	}
	out, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ofactor: OFACTOR_CPUPROFILE: %v\n", err)
		return f()
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		fmt.Fprintf(os.Stderr, "ofactor: OFACTOR_CPUPROFILE: %v\n", err)
		return f()
	}
	defer pprof.StopCPUProfile()
	return f()
}

// dispatch runs the command args name, the way ovs-ofctl picks its
// command from its first argument.
func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	case "-V", "--version":
		return versionCmd(args[1:], stdout, stderr)
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "ofactor: unknown command '%s'; use --help for help\n", args[0])
		return 2
	}
	return c.run(args[1:], stdout, stderr)
}

// usage prints the commands in ovs-ofctl --help's layout.
func usage(w io.Writer) {
	fmt.Fprint(w, "ofactor: OpenFlow controller for Open vSwitch bridges\n"+
		"usage: ofactor COMMAND [ARG...]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := commands[name]
		if len(c.synopsis) <= 26 {
			fmt.Fprintf(w, "  %-26s  %s\n", c.synopsis, c.summary)
		} else {
			fmt.Fprintf(w, "  %s\n  %-26s  %s\n", c.synopsis, "", c.summary)
		}
	}
	fmt.Fprint(w, "\nOther options:\n"+
		"  -h, --help                  display this help message\n"+
		"  -V, --version               display version information\n"+
		"\nRun 'ofactor COMMAND --help' for a command's options.\n")
}

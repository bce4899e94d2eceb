package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

const encodeUsage = `usage: ofactor encode --flows FILE [--groups FILE] [--meters FILE] [--version V]
                      [--ports NAME=N,...]

Write the flows, groups and meters of ovs-ofctl syntax files to standard
output as OpenFlow messages: the meter_mods, then the group_mods, then the
flow_mods, with xids 1, 2, 3... 'ovs-ofctl ofp-parse FILE' prints them.
What ovs-ofctl would do silently (a match field dropped for want of its
prerequisite) is reported on standard error.

Options:
  --flows FILE     flows, as ovs-ofctl add-flows takes them
  --groups FILE    groups, as ovs-ofctl add-groups takes them
  --meters FILE    meters, one a line, as ovs-ofctl add-meter takes them
  --version V      OpenFlow12, OpenFlow13 (default), OpenFlow14 or OpenFlow15:
                   the messages' version and framing (in OpenFlow15, group_mods
                   with bucket ids 0, 1, 2... and bucket properties)
  --ports MAP      the switch's port names, NAME=NUMBER,... (NUMBER may be
                   LOCAL): what in_port=NAME, output:NAME... resolve to; a
                   name not in it is an error
`

// versions are the protocol names ovs-ofctl -O takes that the codec writes
// flow_mods in.
var versions = map[string]uint8{
	"OpenFlow12": openflow.Version12,
	"OpenFlow13": openflow.Version13,
	"OpenFlow14": openflow.Version14,
	"OpenFlow15": openflow.Version15,
}

func encodeCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("encode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, encodeUsage) }
	flows := fs.String("flows", "", "")
	groups := fs.String("groups", "", "")
	meters := fs.String("meters", "", "")
	version := fs.String("version", "OpenFlow13", "")
	portsArg := fs.String("ports", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	v, ok := versions[*version]
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "ofactor encode: unexpected argument %q\n", fs.Arg(0))
		return 2
	case !ok:
		fmt.Fprintf(stderr, "ofactor encode: unknown version %q (expected OpenFlow12 to OpenFlow15)\n", *version)
		return 2
	case *flows == "" && *groups == "" && *meters == "":
		fmt.Fprint(stderr, encodeUsage)
		return 2
	}
	var ports *ofctl.Ports
	if *portsArg != "" {
		var err error
		if ports, err = ofctl.ParsePorts(*portsArg); err != nil {
			fmt.Fprintf(stderr, "ofactor encode: --ports: %v\n", err)
			return 2
		}
	}
	msgs, warnings, err := loadMessages(*flows, *groups, *meters, v, ports)
	for _, w := range warnings {
		fmt.Fprintln(stderr, w)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	w := bufio.NewWriter(stdout)
	if err := writeMessages(w, msgs); err != nil {
		fmt.Fprintln(stderr, "ofactor encode:", err)
		return 1
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(stderr, "ofactor encode:", err)
		return 1
	}
	return 0
}

// sourced is a message and the line it came from, for errors.
type sourced struct {
	msg openflow.Message
	pos ofctl.Pos
}

// loadMessages parses the files (those named) in the order the messages
// go out: meters first, as groups and flows may refer to them, then
// groups, then flows. Every file's every error is reported, and the
// flows' warnings returned. ports (nil: none) resolves port names.
func loadMessages(flows, groups, meters string, version uint8, ports *ofctl.Ports) ([]sourced, []ofctl.Warning, error) {
	ctx := &ofctl.Context{Version: version}
	ctx.OXM.Geneve = -1
	if ports != nil {
		ctx.OXM.Ports = ports
	}
	var warnings []ofctl.Warning
	var out []sourced
	var errs []error
	read := func(name string, parse func(r io.Reader) error) {
		if name == "" {
			return
		}
		f, err := os.Open(name)
		if err != nil {
			errs = append(errs, err)
			return
		}
		defer f.Close()
		errs = append(errs, parse(f))
	}
	read(meters, func(r io.Reader) error {
		lines, err := ofctl.ParseMeters(meters, r, ctx)
		for _, l := range lines {
			out = append(out, sourced{l.Mod, l.Pos})
		}
		return err
	})
	read(groups, func(r io.Reader) error {
		lines, err := ofctl.ParseGroups(groups, r, ctx)
		for _, l := range lines {
			out = append(out, sourced{l.Mod, l.Pos})
		}
		return err
	})
	read(flows, func(r io.Reader) error {
		lines, err := ofctl.ParseFlows(flows, r, ctx)
		for _, l := range lines {
			out = append(out, sourced{l.Mod, l.Pos})
			warnings = append(warnings, l.Warnings()...)
		}
		return err
	})
	if err := errors.Join(errs...); err != nil {
		return nil, warnings, err
	}
	return out, warnings, nil
}

// writeMessages encodes the messages with xids 1, 2, 3...
func writeMessages(w io.Writer, msgs []sourced) error {
	var b []byte
	for i, m := range msgs {
		m.msg.Hdr().XID = uint32(i + 1)
		var err error
		if b, err = m.msg.AppendBinary(b[:0]); err != nil {
			return fmt.Errorf("%s:%d: %w", m.pos.File, m.pos.Line, err)
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

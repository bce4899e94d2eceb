package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// dumpCmd is `ofactor dump`: what the switch holds, written as files that
// `ofactor run --once` takes back without changing anything.
func dumpCmd(args []string, stdout, stderr io.Writer) int {
	l, timeout, code := lookFlags("dump", dumpUsage, args, stdout, stderr)
	if l == nil {
		return code
	}
	ctx, cancel := lookContext(timeout)
	defer cancel()
	// ModeDiff reads the switch (and its TLV map) and, with nothing
	// desired, plans nothing.
	if err := l.spawn(ofactor.ModeDiff); err != nil {
		return l.errorf("%v", err)
	}
	defer l.stop()
	t, st, err := l.installed(ctx)
	if err != nil {
		return l.errorf("%v", err)
	}
	flows, groups, meters := dumpText(t, st.Geneve)
	for _, f := range []struct {
		path  string
		lines []string
	}{{l.o.files.Flows, flows}, {l.o.files.Groups, groups}, {l.o.files.Meters, meters}} {
		if f.path == "" {
			continue
		}
		if err := writeLines(f.path, f.lines, stdout); err != nil {
			return l.errorf("%v", err)
		}
	}
	return 0
}

// installed waits until the bridge has read the switch's tables, and
// returns them with the bridge's status.
func (l *looker) installed(ctx context.Context) (*ofactor.Tables, *messages.Status, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		t, err := l.bridge.Installed(ctx)
		if err == nil {
			st, err := l.bridge.Status(ctx)
			return t, st, err
		}
		if !errors.Is(err, ofactor.ErrNotKnown) {
			return nil, nil, err
		}
		select {
		case <-tick.C:
		case <-l.events.notify:
			// A failed dial ends it at once.
			if err := l.scan(l.events.take()); err != nil {
				return nil, nil, err
			}
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("bridge %s: the switch's tables were not read: %w", l.o.name, ctx.Err())
		}
	}
}

// dumpText renders tables as the files take them: flows by table, then
// priority from the highest, groups and meters by id. A flow using the
// tun_metadata field the Geneve option is mapped to names it geneve, so
// that it follows the option wherever another switch maps it.
func dumpText(t *ofactor.Tables, g messages.GeneveFieldAssigned) (flows, groups, meters []string) {
	type flow struct {
		table    uint8
		priority uint16
		text     string
	}
	var fs []flow
	var field *regexp.Regexp
	if g.Enabled && !g.Unmapped {
		n := strconv.Itoa(g.Index)
		field = regexp.MustCompile(`(^|[^A-Za-z0-9_])(?:tun_metadata` + n + `|NXM_NX_TUN_METADATA` + n + `)([^A-Za-z0-9_]|$)`)
	}
	for _, f := range t.Flows {
		fm, err := flowkey.Decode(t.OFVersion, f.Key(), f.Value())
		if err != nil {
			continue
		}
		text := strings.TrimSpace(string(ofctl.AppendFlow(nil, fm)))
		if field != nil {
			// Twice: the pattern takes the character on each side, so
			// two names one character apart need a second pass.
			for range 2 {
				text = field.ReplaceAllString(text, "${1}geneve${2}")
			}
		}
		fs = append(fs, flow{fm.TableID, fm.Priority, text})
	}
	sort.Slice(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.table != b.table {
			return a.table < b.table
		}
		if a.priority != b.priority {
			return a.priority > b.priority
		}
		return a.text < b.text
	})
	for _, f := range fs {
		flows = append(flows, f.text)
	}
	type object struct {
		id   uint32
		text string
	}
	var objs []object
	for _, gr := range t.Groups {
		if gm, err := gr.GroupMod(t.OFVersion); err == nil {
			objs = append(objs, object{gm.GroupID, string(ofctl.AppendGroup(nil, gm))})
		}
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].id < objs[j].id })
	for _, o := range objs {
		groups = append(groups, o.text)
	}
	objs = objs[:0]
	for _, m := range t.Meters {
		if mm, err := m.MeterMod(t.OFVersion); err == nil {
			objs = append(objs, object{mm.MeterID, string(ofctl.AppendMeter(nil, mm))})
		}
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].id < objs[j].id })
	for _, o := range objs {
		meters = append(meters, o.text)
	}
	return flows, groups, meters
}

// writeLines writes lines to path whole: a new file renamed over the old,
// so that a daemon watching path reads it complete. "-" is stdout.
func writeLines(path string, lines []string, stdout io.Writer) error {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if path == "-" {
		_, err := io.WriteString(stdout, b.String())
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a rename, nothing
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

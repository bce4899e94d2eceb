package main

import "fmt"

// floor is the row after the cold install: ovs-vswitchd's own CPU seconds
// during each contender's runs of row 1 (from /proc/PID/stat around each
// run), and each contender's wall time divided by it. The switch applies
// flow_mods on one thread, so its busy time is the physical limit of an
// install on this machine: a contender at 1.0× kept it busy from start to
// end. ofactor's goal is ≤ 1.1×.
func (b *bench) floor() error {
	cold := b.rows[len(b.rows)-1]
	n := min(len(cold.contenders), 2) // ofactor and ovs-ofctl --bundle
	cpu := row{name: fmt.Sprintf("the floor: ovs-vswitchd's CPU during the cold install of %d flows", b.o.n),
		unit: "s", noRatio: true}
	ratio := row{name: "cold install wall time / the switch's CPU during it", unit: "x", noRatio: true,
		goal: "ofactor ≤ 1.1×"}
	for c := range n {
		cpu.contenders = append(cpu.contenders, "during "+cold.contenders[c])
		cpu.samples = append(cpu.samples, b.switchCPU[c])
		var rs []float64
		for i, w := range b.coldWall[c] {
			if s := b.switchCPU[c][i]; s > 0 {
				rs = append(rs, w/s)
			}
		}
		ratio.contenders = append(ratio.contenders, cold.contenders[c])
		ratio.samples = append(ratio.samples, rs)
	}
	b.rows = append(b.rows, cpu, ratio)
	return nil
}

// Package flowgen makes OVN-like flow tables of any size, in ovs-ofctl
// syntax, for benchmarks and tests: the shapes ovn-controller installs in its
// logical pipeline (port security, ARP responders, ACLs with conntrack, L3
// routing, L2 lookup, register loads), spread over 16 tables, each flow with
// its own cookie.
//
// Flow i is a pure function of i and its variant, so a table of n flows is
// Flows(n) and a table with a few flows changed differs from it in exactly
// those lines. Every flow is one OVS 3.1 takes without groups or meters, so
// the same file feeds ofactor and ovs-ofctl.
package flowgen

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Tables is how many OpenFlow tables the flows are spread over.
const Tables = 16

// firstTable is where the logical pipeline starts, as in OVN (table 8 is
// the first ingress stage).
const firstTable = 8

// shapes is how many kinds of flow there are.
const shapes = 8

// Flow returns flow i in ovs-ofctl syntax. Variant 0 is the original;
// another variant keeps the flow's table, priority and match (it is the same
// flow, as OpenFlow's strict commands see it) and changes its actions.
func Flow(i, variant int) string {
	table := firstTable + i%Tables
	shape := (i / Tables) % shapes
	j := i / (Tables * shapes) // unique within (table, shape)
	md := 1 + j/4096           // a logical datapath per 4096 flows of a shape
	port := 1 + j%4096
	next := table + 1
	if variant != 0 {
		next = table + 2 + variant%8
	}
	cookie := uint32(i)*2654435761 ^ uint32(variant)
	head := "cookie=0x" + strconv.FormatUint(uint64(cookie), 16) + ",table=" + strconv.Itoa(table) + ","
	switch shape {
	case 0: // port security: the port's MAC
		return head + fmt.Sprintf("priority=50,reg14=0x%x,metadata=0x%x,dl_src=%s actions=resubmit(,%d)",
			port, md, mac(j), next)
	case 1: // ARP responder
		return head + fmt.Sprintf("priority=50,arp,metadata=0x%x,arp_tpa=%s,arp_op=1 "+
			"actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:%s->eth_src,set_field:2->arp_op,"+
			"move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],set_field:%s->arp_sha,"+
			"move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],set_field:%s->arp_spa,"+
			"move:NXM_NX_REG14[]->NXM_NX_REG15[],load:0x1->NXM_NX_REG10[0],resubmit(,%d)",
			md, ip4(j), mac(j+variant), mac(j+variant), ip4(j), next)
	case 2: // ACL allowing a TCP port, through conntrack
		return head + fmt.Sprintf("priority=%d,tcp,reg0=0x100/0x100,reg15=0x%x,metadata=0x%x,tp_dst=%d "+
			"actions=ct(commit,zone=NXM_NX_REG13[0..15],exec(load:0x1->NXM_NX_CT_MARK[1])),resubmit(,%d)",
			2000+j%1000, port, md, 1+j/1000%65535, next)
	case 3: // L3 routing: next hop for a destination
		return head + fmt.Sprintf("priority=74,ip,metadata=0x%x,nw_dst=%s "+
			"actions=dec_ttl,set_field:0x%x->reg0,set_field:%s->eth_src,set_field:0x%x->reg15,"+
			"load:0x1->NXM_NX_REG10[0],resubmit(,%d)",
			md, ip4(j), 0xc0a80001+variant, mac(j), port, next)
	case 4: // L2 lookup: the output port of a MAC
		return head + fmt.Sprintf("priority=50,metadata=0x%x,dl_dst=%s actions=set_field:0x%x->reg15,resubmit(,%d)",
			md, mac(j), port+variant, next)
	case 5: // IPv6 neighbour: load the MAC into the packet
		return head + fmt.Sprintf("priority=100,ipv6,reg14=0x%x,metadata=0x%x,ipv6_src=fd00::%x "+
			"actions=set_field:%s->eth_dst,resubmit(,%d)",
			port, md, j+1, mac(j+variant), next)
	case 6: // egress port: the port's registers
		return head + fmt.Sprintf("priority=100,reg15=0x%x,metadata=0x%x "+
			"actions=set_field:0x%x->reg13,set_field:0x%x->reg11,set_field:0x%x->reg12,resubmit(,%d)",
			port, md, j%4096+variant, md, md+1, next)
	}
	// DHCP reply to a port
	return head + fmt.Sprintf("priority=100,udp,reg14=0x%x,metadata=0x%x,dl_src=%s,tp_src=68,tp_dst=67 "+
		"actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:%s->eth_src,set_field:%s->ip_src,"+
		"set_field:67->udp_src,set_field:68->udp_dst,move:NXM_NX_REG14[]->NXM_NX_REG15[],"+
		"load:0x1->NXM_NX_REG10[0],resubmit(,%d)",
		port, md, mac(j), mac(j+1+variant), ip4(j), next)
}

// OneTable returns flow i of a table whose flows all sit in table 0:
// Flow(i, 0) moved there, with its own table's number in reg12 so that
// every flow keeps a match of its own (a hostile operator's 850k-flow
// table 0, a dump larger than any one reply).
func OneTable(i int) string {
	f := Flow(i, 0)
	at := strings.Index(f, ",table=") + len(",table=")
	end := at + strings.IndexByte(f[at:], ',')
	return f[:at] + "0,reg12=0x" + strconv.FormatUint(uint64(firstTable+i%Tables), 16) + f[end:]
}

// mac returns a locally administered MAC numbered n.
func mac(n int) string {
	return fmt.Sprintf("02:ac:%02x:%02x:%02x:%02x", byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// ip4 returns an address in 10.0.0.0/8 numbered n.
func ip4(n int) string {
	return fmt.Sprintf("10.%d.%d.%d", byte(n>>16), byte(n>>8), byte(n))
}

// Flows returns flows 0..n-1.
func Flows(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = Flow(i, 0)
	}
	return out
}

// Changed returns the table of n flows with every every-th flow's actions
// changed (variant 1) and add new flows after them: the "1% changed, 1000
// added" edit of a benchmark is Changed(n, 100, 1000).
func Changed(n, every, add int) []string {
	out := make([]string, 0, n+add)
	for i := 0; i < n+add; i++ {
		v := 0
		if i < n && every > 0 && i%every == every-1 {
			v = 1
		}
		out = append(out, Flow(i, v))
	}
	return out
}

// Write writes flows one per line.
func Write(w io.Writer, flows []string) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	for _, f := range flows {
		bw.WriteString(f)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// WriteFileN writes n flows to a file, flow(i) for i in 0..n-1, one per
// line, without holding them all in memory (a million flows are 200 MB of
// text).
func WriteFileN(name string, n int, flow func(i int) string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	for i := range n {
		bw.WriteString(flow(i))
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	return f.Close()
}

// ChangedFlow is flow i of Changed(n, every, 0): every every-th flow's
// actions changed.
func ChangedFlow(i, every int) string {
	if every > 0 && i%every == every-1 {
		return Flow(i, 1)
	}
	return Flow(i, 0)
}

// WriteFile writes flows to a file, one per line.
func WriteFile(name string, flows []string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := Write(f, flows); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	return f.Close()
}

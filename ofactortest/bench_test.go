package ofactortest_test

import (
	"fmt"
	"testing"

	"github.com/ofactor/ofactor/ofactortest"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// BenchmarkBundleInstall installs 100k OVN-like flows in one ORDERED|ATOMIC
// bundle (OPEN, 100k ADD_MESSAGEs, COMMIT, barrier) over a unix socket,
// then dumps them: the cost of a cold install against the in-memory
// switch. Run it with -benchtime=1x; it is not part of the test suite.
func BenchmarkBundleInstall(b *testing.B) {
	const n = 100_000
	msgs := make([]openflow.Message, 0, n+2)
	msgs = append(msgs, &openflow.BundleControl{BundleID: 1, Type: openflow.BundleOpenRequest, Flags: 3})
	for i := range n {
		fm, err := ofctl.ParseFlow(fmt.Sprintf("cookie=%#x,table=%d,priority=%d,reg14=%d,metadata=%#x,ip,nw_dst=10.%d.%d.0/24 actions=set_field:%#x->reg15,resubmit(,%d)",
			i, i%16, 100+i%50, i%4096, i%64, i/256%256, i%256, i, i%16+16), nil)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, &openflow.BundleAdd{BundleID: 1, Flags: 3, Message: fm})
	}
	msgs = append(msgs, &openflow.BundleControl{BundleID: 1, Type: openflow.BundleCommitRequest, Flags: 3})
	for b.Loop() {
		sw := ofactortest.Start(b)
		c, err := ofactortest.Dial(sw.Target())
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range msgs {
			m.Hdr().XID = 0
			if ba, ok := m.(*openflow.BundleAdd); ok {
				ba.Message.Hdr().XID = 0
			}
		}
		rs, err := c.Exchange(msgs...)
		if err != nil || len(rs) != 2 {
			b.Fatalf("%d replies, %v", len(rs), err)
		}
		rs, err = c.Exchange(openflow.NewFlowStatsRequest(0))
		if err != nil {
			b.Fatal(err)
		}
		if got := sw.FlowCount(); got != n {
			b.Fatalf("%d flows", got)
		}
		c.Close()
		sw.Close()
	}
}

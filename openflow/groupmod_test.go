package openflow

import (
	"strings"
	"testing"
)

// TestGroupAndMeterModFromOVS turns the groups and meters OVS described
// back into group_mods and meter_mods: ovs-ofctl must print each as it
// printed OVS's description.
func TestGroupAndMeterModFromOVS(t *testing.T) {
	bin := ovsOfctl(t)
	var groups, meters int
	for _, m := range ovsReplies(t) {
		switch m := m.(type) {
		case *GroupDescReply:
			for _, g := range m.Groups {
				groups++
				gm := &GroupMod{Header: Header{Version: m.Version}, Command: GroupAdd, Type: g.Type, GroupID: g.GroupID, Buckets: g.Buckets}
				b, err := gm.AppendBinary(nil)
				if err != nil {
					t.Fatal(err)
				}
				one := &GroupDescReply{Header: Header{Version: m.Version}, Groups: []GroupDesc{g}}
				ob, _ := one.AppendBinary(nil)
				got := strings.TrimPrefix(lastLine(ovsPrint(t, bin, b)), " ADD ")
				want := strings.TrimPrefix(lastLine(ovsPrint(t, bin, ob)), " ")
				if got != want || !strings.HasPrefix(got, "group_id=") {
					t.Errorf("group_mod prints %q, OVS's group %q", got, want)
				}
			}
		case *MeterConfigReply:
			for _, mc := range m.Meters {
				meters++
				mm := &MeterMod{Header: Header{Version: m.Version}, Command: MeterAdd, Flags: mc.Flags, MeterID: mc.MeterID, Bands: mc.Bands}
				b, err := mm.AppendBinary(nil)
				if err != nil {
					t.Fatal(err)
				}
				one := &MeterConfigReply{Header: Header{Version: m.Version}, Meters: []MeterConfig{mc}}
				ob, _ := one.AppendBinary(nil)
				got := ovsPrint(t, bin, b)
				got = got[strings.Index(got, "ADD ")+4:]
				want := ovsPrint(t, bin, ob)
				want = want[strings.Index(want, "\n")+1:]
				if strings.TrimSpace(got) != strings.TrimSpace(want) {
					t.Errorf("meter_mod prints %q, OVS's meter %q", got, want)
				}
			}
		}
	}
	if groups != 8 || meters != 6 {
		t.Errorf("%d groups, %d meters in the captures", groups, meters)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

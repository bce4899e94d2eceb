package ofctl

import (
	"strings"
	"testing"

	"github.com/ofactor/ofactor/openflow"
)

func TestParseMeter(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		check   func(*openflow.MeterMod) bool
	}{
		{"meter=1,kbps,burst,stats,bands=type=drop,rate=50,burst_size=100",
			"meter=1,kbps,burst,stats,bands=type=drop,rate=50,burst_size=100",
			func(mm *openflow.MeterMod) bool {
				return mm.Command == openflow.MeterAdd && mm.MeterID == 1 && mm.Flags == 0xd &&
					len(mm.Bands) == 1 && mm.Bands[0].Type == openflow.MeterBandDrop && mm.Bands[0].Rate == 50 && mm.Bands[0].BurstSize == 100
			}},
		// As ovs-ofctl dump-meters and ofp-print write it.
		{"meter=1 kbps burst stats bands=\ntype=drop rate=50 burst_size=100",
			"meter=1,kbps,burst,stats,bands=type=drop,rate=50,burst_size=100", nil},
		{"meter=2,pktps,bands=type=dscp_remark,rate=100,prec_level=1,type=drop,rate=200",
			"meter=2,pktps,bands=type=dscp_remark,rate=100,prec_level=1,type=drop,rate=200",
			func(mm *openflow.MeterMod) bool { return len(mm.Bands) == 2 && mm.Bands[0].PrecLevel == 1 }},
		{"meter=controller,stats,kbps,band=type=drop,rate=1", "meter=controller,kbps,stats,bands=type=drop,rate=1", nil},
		{"add meter=slowpath,pktps,bands=type=drop,rate=0x10", "meter=slowpath,pktps,bands=type=drop,rate=16", nil},
		{"modify meter=3,pktps,bands=type=drop,rate=1", "modify meter=3,pktps,bands=type=drop,rate=1",
			func(mm *openflow.MeterMod) bool { return mm.Command == openflow.MeterModify }},
		{"delete meter=3", "delete meter=3", func(mm *openflow.MeterMod) bool { return mm.Command == openflow.MeterDelete }},
		{"delete", "delete meter=all", func(mm *openflow.MeterMod) bool { return mm.MeterID == openflow.MeterAll }},
	} {
		mm, err := ParseMeter(tc.in, nil)
		if err != nil {
			t.Errorf("ParseMeter(%q): %v", tc.in, err)
			continue
		}
		if got := string(AppendMeter(nil, mm)); got != tc.out {
			t.Errorf("ParseMeter(%q) prints\n%q, want\n%q", tc.in, got, tc.out)
		}
		if tc.check != nil && !tc.check(mm) {
			t.Errorf("ParseMeter(%q) = %+v", tc.in, mm)
		}
		if mc := (openflow.MeterConfig{Flags: mm.Flags, MeterID: mm.MeterID, Bands: mm.Bands}); mm.Command == openflow.MeterAdd {
			if got := string(AppendMeterConfig(nil, &mc)); got != tc.out {
				t.Errorf("AppendMeterConfig: %q, want %q", got, tc.out)
			}
		}
	}
}

func TestParseMeterErrors(t *testing.T) {
	for _, tc := range []errCase{
		{"meter=0,kbps,bands=type=drop,rate=1", 1, "meter=0", "from 1 to"},
		{"meter=0xffff0001,kbps,bands=type=drop,rate=1", 1, "meter=0xffff0001", "from 1 to"},
		{"kbps,bands=type=drop,rate=1", 28, "", "missing meter="},
		{"meter=1,bands=type=drop,rate=1", 31, "", "kbps or pktps"},
		{"meter=1,kbps,pktps,bands=type=drop,rate=1", 14, "pktps", "either kbps or pktps"},
		{"meter=1,kbps", 13, "", "missing bands="},
		{"meter=1,kbps,frob,bands=type=drop,rate=1", 14, "frob", "unknown keyword"},
		{"meter=1,kbps,bands=", 20, "", "at least one band"},
		{"meter=1,kbps,bands=rate=1", 20, "rate=1", "must start with type="},
		{"meter=1,kbps,bands=type=police,rate=1", 20, "type=police", "unknown band type"},
		{"meter=1,kbps,bands=type=drop", 20, "type=drop", "needs rate="},
		{"meter=1,kbps,bands=type=drop,rate=1,burst_size=5", 20, "type=drop", "burst flag"},
		{"meter=1,kbps,burst,bands=type=drop,rate=1", 26, "type=drop", "needs burst_size="},
		{"meter=1,kbps,bands=type=dscp_remark,rate=1", 20, "type=dscp_remark", "needs prec_level="},
		{"meter=1,kbps,bands=type=drop,rate=1,prec_level=2", 20, "type=drop", "only a dscp_remark"},
		{"meter=1,kbps,bands=type=drop,rate=1,type=drop,rate=x", 47, "rate=x", "not a number"},
		{"meter=1,kbps,bands=type=drop,rate=1,color=red", 37, "color=red", "unknown band keyword"},
		{"delete meter=1,kbps", 16, "kbps", "takes no flags"},
		{"delete meter=1,bands=type=drop,rate=1", 16, "bands=type=drop", "takes no bands"},
	} {
		_, err := ParseMeter(tc.in, nil)
		checkErr(t, "ParseMeter", tc, err)
	}
}

func TestParseMeterVersion(t *testing.T) {
	_, err := ParseMeter("meter=1,kbps,bands=type=drop,rate=1", &Context{Version: openflow.Version12})
	checkErr(t, "ParseMeter", errCase{"OpenFlow 1.2", 1, "", "OpenFlow 1.3 or later"}, err)
	mm, err := ParseMeter("meter=1,kbps,bands=type=drop,rate=1", &Context{Version: openflow.Version15})
	if err != nil || mm.Version != openflow.Version15 {
		t.Errorf("OpenFlow 1.5: %v, %v", mm, err)
	}
}

func TestParseMeters(t *testing.T) {
	in := "meter=1,kbps,bands=type=drop,rate=1\n\n  meter=2,kbps,bands=type=drop,rate=x # bad\n"
	_, err := ParseMeters("meters.txt", strings.NewReader(in), nil)
	if want := `meters.txt:3:32: "rate=x": `; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %s...", err, want)
	}
}

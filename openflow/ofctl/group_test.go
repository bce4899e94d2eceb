package ofctl

import (
	"strings"
	"testing"

	"github.com/ofactor/ofactor/openflow"
)

func TestParseGroup(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		check   func(*openflow.GroupMod) bool
	}{
		{"group_id=1,type=all,bucket=output:1,bucket=output:2",
			"group_id=1,type=all,bucket=actions=output:1,bucket=actions=output:2",
			func(gm *openflow.GroupMod) bool {
				b := gm.Buckets[0]
				return len(gm.Buckets) == 2 && b.Weight == 0 && b.WatchPort == openflow.PortAny &&
					b.WatchGroup == openflow.GroupAny && gm.Command == openflow.GroupAdd
			}},
		{"group_id=1,type=select,bucket=actions=output:1,output:2",
			"group_id=1,type=select,bucket=actions=output:1,output:2",
			func(gm *openflow.GroupMod) bool { return gm.Buckets[0].Weight == 1 && len(gm.Buckets[0].Actions) == 2 }},
		{"group_id=2,type=fast_failover,bucket=watch_port:5,actions=output:5,bucket=watch_group:3,actions=group:3",
			"group_id=2,type=ff,bucket=watch_port:5,actions=output:5,bucket=watch_group:3,actions=group:3", nil},
		{"group_id=2,type=ff,bucket=watch_port:any,watch_port:7,actions=drop", "group_id=2,type=ff,bucket=watch_port:7,actions=drop", nil},
		{"group_id=2,type=ff,bucket=watch_port:NONE,watch_group:0x5,actions=drop", "group_id=2,type=ff,bucket=watch_group:5,actions=drop", nil},
		{"group_id=2,type=ff,bucket=watch_port:CONTROLLER,actions=drop", "group_id=2,type=ff,bucket=watch_port:CONTROLLER,actions=drop", nil},
		// Before OpenFlow 1.5 the selection method and bucket ids parse but
		// are not on the wire, nor printed.
		{"group_id=6,type=select,selection_method=hash,selection_method_param=7,fields(ip_src,tcp_dst=0xff00),bucket=bucket_id:3,actions=output:1",
			"group_id=6,type=select,bucket=actions=output:1",
			func(gm *openflow.GroupMod) bool {
				sel := gm.Selection
				return sel != nil && sel.Method == "hash" && sel.Param == 7 && len(sel.Fields) == 2 &&
					sel.Fields[0].Header == 0x80001604 && sel.Fields[1].Header == 0x80001c02 &&
					string(sel.Fields[1].Value) == "\xff\x00" && gm.Buckets[0].BucketID == 3
			}},
		{"add_or_mod group_id=7,type=all,bucket=output:1", "add_or_mod group_id=7,type=all,bucket=actions=output:1",
			func(gm *openflow.GroupMod) bool { return gm.Command == 0x8000 }},
		{"group_id=3,type=indirect,bucket=actions=drop", "group_id=3,type=indirect,bucket=actions=drop", nil},
		{"group_id=4,type=select,bucket=weight:0,actions=drop", "group_id=4,type=select,bucket=weight:0,actions=drop", nil},
		{"group_id=4,type=select,bucket=weight=7,actions=drop", "group_id=4,type=select,bucket=weight:7,actions=drop", nil},
		{"  type=select group_id=0x10 bucket=weight:5 actions=output:1 ", "group_id=16,type=select,bucket=weight:5,actions=output:1", nil},
		{"group_id=5,type=all", "group_id=5,type=all", nil},
		{"add group_id=5,type=all", "group_id=5,type=all", nil},
		{"modify group_id=5,type=indirect", "modify group_id=5,type=indirect",
			func(gm *openflow.GroupMod) bool { return gm.Command == openflow.GroupModify }},
		{"delete group_id=4", "delete group_id=4", func(gm *openflow.GroupMod) bool { return gm.Command == openflow.GroupDelete }},
		{"delete", "delete group_id=all", func(gm *openflow.GroupMod) bool { return gm.GroupID == openflow.GroupAll }},
	} {
		gm, err := ParseGroup(tc.in, nil)
		if err != nil {
			t.Errorf("ParseGroup(%q): %v", tc.in, err)
			continue
		}
		if got := string(AppendGroup(nil, gm)); got != tc.out {
			t.Errorf("ParseGroup(%q) prints\n%q, want\n%q", tc.in, got, tc.out)
		}
		if tc.check != nil && !tc.check(gm) {
			t.Errorf("ParseGroup(%q) = %+v", tc.in, gm)
		}
		if gd := (openflow.GroupDesc{Type: gm.Type, GroupID: gm.GroupID, Buckets: gm.Buckets}); gm.Command == openflow.GroupAdd {
			if got := string(AppendGroupDesc(nil, &gd)); got != tc.out {
				t.Errorf("AppendGroupDesc: %q, want %q", got, tc.out)
			}
		}
	}
}

func TestParseGroupErrors(t *testing.T) {
	for _, tc := range []errCase{
		{"type=all", 9, "", "must specify a group_id"},
		{"group_id=1", 11, "", "must specify a type"},
		{"group_id=1,type=foo", 12, "type=foo", "invalid group type"},
		{"group_id=x,type=all", 1, "group_id=x", "not a number"},
		{"group_id=0xffffff01,type=all", 1, "group_id=0xffffff01", "at most"},
		{"group_id=1,type=all,frob=2", 21, "frob=2", "unknown keyword"},
		{"group_id=1,type=all,bucket=weight:5,actions=drop", 21, "bucket", "only select groups"},
		{"group_id=1,type=indirect,bucket=actions=drop,bucket=actions=drop", 46, "bucket", "at most one bucket"},
		{"group_id=1,type=all,bucket=watch_port:1", 21, "bucket", "must specify actions"},
		{"group_id=1,type=select,bucket=weight:x,actions=drop", 31, "weight:x", "not a number"},
		{"group_id=1,type=ff,bucket=watch_port:LOCAL,actions=drop", 27, "watch_port:LOCAL", "invalid watch_port"},
		{"group_id=1,type=ff,bucket=watch_port:0x7,actions=drop", 27, "watch_port:0x7", "invalid watch_port"},
		{"group_id=1,type=ff,bucket=actions=drop", 20, "bucket", "fast failover bucket requires watch_port or watch_group"},
		{"group_id=1,type=ff,bucket=watch_group:0xfffffffc,actions=drop", 27, "watch_group:0xfffffffc", "at most"},
		{"group_id=1,type=all,bucket=bucket_id:0xffffff01,actions=drop", 28, "bucket_id:0xffffff01", "invalid bucket_id"},
		{"group_id=1,type=all,fields(ip_src),bucket=actions=drop", 35, "", "fields may only be specified with \"selection_method=hash\""},
		{"group_id=1,type=select,selection_method_param=5,bucket=actions=drop", 48, "", "selection_method_param is only allowed"},
		{"group_id=1,type=select,selection_method=hash,fields(ip_src,ip_src),bucket=actions=drop", 53, "ip_src,ip_src", "duplicate field"},
		{"group_id=1,type=select,selection_method=hash,fields(ip_src=0.0.0.0),bucket=actions=drop", 53, "ip_src=0.0.0.0", "must not be all-zeros"},
		{"insert_bucket group_id=1,command_bucket_id=first,bucket=actions=drop", 1, "insert_bucket", "needs OpenFlow 1.5"},
		{"delete group_id=1,type=all", 19, "type=all", "type is not needed"},
		{"delete group_id=1,bucket=actions=drop", 19, "bucket", "bucket is not needed"},
	} {
		_, err := ParseGroup(tc.in, nil)
		checkErr(t, "ParseGroup", tc, err)
	}
	// The action parser's errors come back at their column.
	in := "group_id=1,type=all,bucket=output:1,bucket=actions=output:2,frobnicate"
	_, err := ParseGroup(in, nil)
	checkErr(t, "ParseGroup", errCase{in, strings.Index(in, "frobnicate") + 1, "frobnicate", ""}, err)
}

func TestParseGroups(t *testing.T) {
	in := "# groups\ngroup_id=1,type=all\n\ngroup_id=2,type=bogus\ngroup_id=3,type=all,bucket=actions=drop\n"
	_, err := ParseGroups("groups.txt", strings.NewReader(in), nil)
	if want := `groups.txt:4:12: "type=bogus": invalid group type`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %s...", err, want)
	}
	lines, err := ParseGroups("groups.txt", strings.NewReader(strings.Replace(in, "bogus", "select", 1)), nil)
	if err != nil || len(lines) != 3 || lines[2].Pos.Line != 5 || lines[2].Mod.GroupID != 3 {
		t.Errorf("got %+v, %v", lines, err)
	}
}

package conformance

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/ofactor/ofactor/ofactortest"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// How replies read in a transcript and in a Summary.

// summarize is a reply's Summary line, without the @N.
func summarize(parts [][]byte) string {
	f := parts[0]
	m, err := openflow.Decode(joinParts(parts))
	if err != nil {
		return fmt.Sprintf("%s (undecodable: %v)", ofactortest.MessageName(f), err)
	}
	switch m := m.(type) {
	case *openflow.Error:
		return "error " + m.Err().Name
	case *openflow.BundleControl:
		return "bundle " + bundleTypes[m.Type]
	case *openflow.FlowStatsReply:
		return fmt.Sprintf("flows %d", len(m.Stats))
	case *openflow.GroupDescReply:
		return fmt.Sprintf("groups %d", len(m.Groups))
	case *openflow.MeterConfigReply:
		return fmt.Sprintf("meters %d", len(m.Meters))
	case *openflow.TLVTableReply:
		return fmt.Sprintf("tlv %d", len(m.Mappings))
	case *openflow.EchoReply:
		return "echo_reply"
	case *openflow.BarrierReply:
		return "barrier_reply"
	case *openflow.FeaturesReply:
		return "features_reply"
	case *openflow.GetConfigReply:
		return "get_config_reply"
	}
	return ofactortest.MessageName(f)
}

var bundleTypes = map[uint16]string{
	openflow.BundleOpenRequest: "OPEN_REQUEST", openflow.BundleOpenReply: "OPEN_REPLY",
	openflow.BundleCloseRequest: "CLOSE_REQUEST", openflow.BundleCloseReply: "CLOSE_REPLY",
	openflow.BundleCommitRequest: "COMMIT_REQUEST", openflow.BundleCommitReply: "COMMIT_REPLY",
	openflow.BundleDiscardRequest: "DISCARD_REQUEST", openflow.BundleDiscardReply: "DISCARD_REPLY",
}

// joinParts makes one message of a multipart reply's parts: the first
// part's header, every part's body, the last part's flags.
func joinParts(parts [][]byte) []byte {
	if len(parts) == 1 {
		return parts[0]
	}
	b := append([]byte(nil), parts[0]...)
	for _, p := range parts[1:] {
		b = append(b, p[16:]...)
	}
	copy(b[10:12], parts[len(parts)-1][10:12])
	if len(b) > openflow.MaxMessageLen {
		// Too long for one header: describe it by its parts instead.
		return nil
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

// describeAll is a reply in full: a first line, and the entries of a
// multipart reply (sorted: switches list them in their own orders), one
// a line.
func describeAll(parts [][]byte) []string {
	if len(parts) > 1 {
		var all []string
		n := 0
		for _, p := range parts {
			lines := describe(p)
			n += len(lines) - 1
			all = append(all, lines[1:]...)
		}
		sort.Strings(all)
		return append([]string{fmt.Sprintf("%s (%d entries)", ofactortest.MessageName(parts[0]), n)}, all...)
	}
	return describe(parts[0])
}

// describe is one message in full.
func describe(f []byte) []string {
	name := ofactortest.MessageName(f)
	m, err := openflow.Decode(f)
	if err != nil {
		return []string{fmt.Sprintf("%s undecodable (%v): %x", name, err, f)}
	}
	switch m := m.(type) {
	case *openflow.Error:
		return []string{fmt.Sprintf("error %s (v%#x) %s", m.Err().Name, m.Version, quoted(m))}
	case *openflow.BundleControl:
		return []string{fmt.Sprintf("bundle %s id=%d flags=%#x props=%x", bundleTypes[m.Type], m.BundleID, m.Flags, m.Properties)}
	case *openflow.FlowStatsReply:
		lines := []string{fmt.Sprintf("%s flags=%#x (%d entries)", name, m.Flags, len(m.Stats))}
		var fl []string
		for i := range m.Stats {
			fs := &m.Stats[i]
			fl = append(fl, fmt.Sprintf("n_packets=%d n_bytes=%d%s", fs.PacketCount, fs.ByteCount, ofctl.AppendFlowStats(nil, fs)))
		}
		sort.Strings(fl)
		return append(lines, fl...)
	case *openflow.GroupDescReply:
		lines := []string{fmt.Sprintf("%s flags=%#x (%d entries)", name, m.Flags, len(m.Groups))}
		var gl []string
		for i := range m.Groups {
			gl = append(gl, string(ofctl.AppendGroupDesc(nil, &m.Groups[i])))
		}
		sort.Strings(gl)
		return append(lines, gl...)
	case *openflow.MeterConfigReply:
		lines := []string{fmt.Sprintf("%s flags=%#x (%d entries)", name, m.Flags, len(m.Meters))}
		var ml []string
		for i := range m.Meters {
			ml = append(ml, string(ofctl.AppendMeterConfig(nil, &m.Meters[i])))
		}
		sort.Strings(ml)
		return append(lines, ml...)
	case *openflow.TLVTableReply:
		var maps []string
		for _, x := range m.Mappings {
			maps = append(maps, ofactortest.TLVMapString(x))
		}
		return []string{fmt.Sprintf("tlv_table_reply space=%d fields=%d %v", m.MaxOptionSpace, m.MaxFields, maps)}
	case *openflow.FeaturesReply:
		return []string{fmt.Sprintf("features_reply n_buffers=%d n_tables=%d aux=%d capabilities=%#x reserved=%#x ports=%d bytes",
			m.NBuffers, m.NTables, m.AuxiliaryID, m.Capabilities, m.Reserved, len(m.Ports))}
	case *openflow.GetConfigReply:
		return []string{fmt.Sprintf("get_config_reply flags=%#x miss_send_len=%d", m.Flags, m.MissSendLen)}
	case *openflow.EchoReply:
		return []string{fmt.Sprintf("echo_reply data=%x", m.Data)}
	case *openflow.BarrierReply:
		return []string{"barrier_reply"}
	case *openflow.Hello:
		return []string{fmt.Sprintf("hello v%#x versions=%#x", m.Version, m.VersionBitmap())}
	case *openflow.MultipartReply:
		return describeMultipart(name, m)
	case *openflow.PortDescReply:
		// The hardware address is left out: OVS gives the bridge's local
		// port a random one.
		lines := []string{fmt.Sprintf("%s flags=%#x (%d entries)", name, m.Flags, len(m.Ports))}
		for _, p := range m.Ports {
			lines = append(lines, fmt.Sprintf("port=%#x name=%q config=%#x state=%#x curr=%#x advertised=%#x supported=%#x peer=%#x speed=%d/%d",
				p.PortNo, p.Name, p.Config, p.State, p.Curr, p.Advertised, p.Supported, p.Peer, p.CurrSpeed, p.MaxSpeed))
		}
		return lines
	}
	return []string{fmt.Sprintf("%s %x", name, f[openflow.HeaderLen:])}
}

// quoted says what an error quotes: the request's name and length, or
// the text of a HELLO_FAILED.
func quoted(e *openflow.Error) string {
	if e.ErrType == 0 { // OFPET_HELLO_FAILED: a text
		return fmt.Sprintf("text=%q", e.Data)
	}
	if len(e.Data) < openflow.HeaderLen {
		return fmt.Sprintf("data=%x", e.Data)
	}
	inner := ""
	if n := int(binary.BigEndian.Uint16(e.Data[2:])); n <= len(e.Data) && n >= 8 {
		inner = ofactortest.MessageName(e.Data[:n])
	}
	return fmt.Sprintf("quoting %s len=%d xid_same=%v", inner, len(e.Data),
		binary.BigEndian.Uint32(e.Data[4:]) == e.XID)
}

// describeMultipart is a multipart reply the codec keeps raw.
func describeMultipart(name string, m *openflow.MultipartReply) []string {
	be := binary.BigEndian
	b := m.Body
	switch m.MPType {
	case openflow.MultipartDesc:
		if len(b) == 1056 {
			s := func(x []byte) string { return string(bytes.TrimRight(x, "\x00")) }
			return []string{fmt.Sprintf("%s mfr=%q hw=%q sw=%q serial=%q", name, s(b[:256]), s(b[256:512]), s(b[512:768]), s(b[768:800]))}
		}
	case openflow.MultipartAggregate:
		if len(b) == 24 {
			return []string{fmt.Sprintf("%s packets=%d bytes=%d flows=%d", name, be.Uint64(b), be.Uint64(b[8:]), be.Uint32(b[16:]))}
		}
	case openflow.MultipartMeterFeatures:
		if len(b) == 16 {
			return []string{fmt.Sprintf("%s max_meter=%d band_types=%#x capabilities=%#x max_bands=%d max_color=%d",
				name, be.Uint32(b), be.Uint32(b[4:]), be.Uint32(b[8:]), b[12], b[13])}
		}
	case openflow.MultipartPortDesc:
		lines := []string{fmt.Sprintf("%s flags=%#x (%d entries)", name, m.Flags, len(b)/64)}
		for ; len(b) >= 64; b = b[64:] {
			lines = append(lines, fmt.Sprintf("port=%#x name=%q config=%#x state=%#x curr=%#x advertised=%#x supported=%#x peer=%#x speed=%d/%d",
				be.Uint32(b), bytes.TrimRight(b[16:32], "\x00"), be.Uint32(b[32:]), be.Uint32(b[36:]),
				be.Uint32(b[40:]), be.Uint32(b[44:]), be.Uint32(b[48:]), be.Uint32(b[52:]), be.Uint32(b[56:]), be.Uint32(b[60:])))
		}
		return lines
	}
	return []string{fmt.Sprintf("%s flags=%#x body=%x", name, m.Flags, b)}
}

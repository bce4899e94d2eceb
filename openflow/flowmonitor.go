package openflow

import (
	"fmt"

	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// The flow monitor (OVS lib/ofp-monitor.c): a controller asks to hear of
// flow table changes and the switch sends updates as they happen.
//
//   - OpenFlow 1.3: the ONF extension: request and replies are ONF
//     experimenter multiparts (ONFST_FLOW_MONITOR 1870); cancel, paused
//     and resumed are ONF experimenter messages (ONFT 1870, 1871, 1872).
//   - OpenFlow 1.4+: OFPMP_FLOW_MONITOR (16); a cancel is a request with
//     command DELETE, and paused/resumed are events inside a reply.
//
// The reply to a request (its xid) holds the flows present then, when
// asked (flags INITIAL); later updates come in replies with xid 0 (see
// IsAsyncFrame), before the reply to a later barrier. Changes made by the
// controller's own connection come as one Abbrev update per batch OVS
// flushes (a whole bundle commit is one), unless it asked for them in full
// (MonitorOwnFlag). A 1.4+ cancel is answered by an empty reply, a 1.3 one
// by nothing.
//
// Under buffer pressure (more than 128 KB of updates queued) OVS pauses a
// connection's monitors: what was queued still arrives, then PAUSED; while
// paused it keeps only deletions of flows older than the pause; once the
// backlog is read it sends what changed meanwhile and RESUMED, which may
// come after a later barrier's reply. A monitor's view should be checked
// after a resume (connmgr.c ofmonitor_flush, ofmonitor_resume).

// ONF experimenter message types of the OpenFlow 1.3 flow monitor.
const (
	ONFTFlowMonitorCancel  uint32 = 1870
	ONFTFlowMonitorPaused  uint32 = 1871
	ONFTFlowMonitorResumed uint32 = 1872
)

// Flow monitor commands (enum ofp14_flow_monitor_command, OpenFlow 1.4+;
// in 1.3 every request adds and FlowMonitorCancel deletes).
const (
	MonitorCommandAdd    uint8 = 0
	MonitorCommandModify uint8 = 1
	MonitorCommandDelete uint8 = 2
)

// Flow monitor flags, as on the wire. The first five mean the same in both
// versions (ONFFMF_* in 1.3, OFPFMF_* in 1.4+); bit 5 and up differ:
//
//	1.3: MonitorOwn (32): the controller's own changes in full, not abbreviated
//	1.4: MonitorNoAbbrev (32), MonitorOnlyOwn (64)
//
// OVS 3.1 reads 1.3's MonitorOwn as 1.4's MonitorOnlyOwn and gives both
// the meaning "own changes in full" (connmgr.c ofmonitor_report); it
// ignores MonitorNoAbbrev. MonitorOwnFlag picks the bit for a version.
const (
	MonitorInitial  uint16 = 1 << 0 // the flows that match now, in the reply
	MonitorAdd      uint16 = 1 << 1 // flows as they are added
	MonitorDelete   uint16 = 1 << 2 // flows as they are removed (OFPFMF_REMOVED)
	MonitorModify   uint16 = 1 << 3 // flows as they are changed
	MonitorActions  uint16 = 1 << 4 // include instructions (OFPFMF_INSTRUCTIONS)
	MonitorOwn      uint16 = 1 << 5 // OpenFlow 1.3 (ONFFMF_OWN)
	MonitorNoAbbrev uint16 = 1 << 5 // OpenFlow 1.4+
	MonitorOnlyOwn  uint16 = 1 << 6 // OpenFlow 1.4+
)

// MonitorOwnFlag returns the flag that has OVS report the controller's own
// changes in full in version.
func MonitorOwnFlag(version uint8) uint16 {
	if version >= Version14 {
		return MonitorOnlyOwn
	}
	return MonitorOwn
}

// Flow update events, in OpenFlow 1.4's numbering (enum
// ofp_flow_update_event) whatever the version: the decoder maps OpenFlow
// 1.3's ONFFME_* (ADDED 0, DELETED 1, MODIFIED 2, ABBREV 3) onto them, as
// OVS does, and the 1.3 encoder maps them back (Initial as ADDED, which is
// how OVS sends initial flows in 1.3). Paused and Resumed exist as events in
// 1.4+ only; 1.3 has FlowMonitorPaused/Resumed messages instead.
const (
	FlowUpdateInitial  uint16 = 0
	FlowUpdateAdded    uint16 = 1
	FlowUpdateRemoved  uint16 = 2
	FlowUpdateModified uint16 = 3
	FlowUpdateAbbrev   uint16 = 4
	FlowUpdatePaused   uint16 = 5
	FlowUpdateResumed  uint16 = 6
	FlowUpdateUnknown  uint16 = 0xffff // an event this package does not know: FlowUpdate.Raw
)

// FlowMonitor is one monitor of a flow monitor request:
//
//	1.3 (onf_flow_monitor_request): id u32 | flags u16 | match_len u16 |
//	     out_port u32 | table_id u8 | zeros 3 | ofp_match
//	1.4 (ofp14_flow_monitor_request): monitor_id u32 | out_port u32 |
//	     out_group u32 | flags u16 | table_id u8 | command u8 | ofp_match
//
// Every monitor has the match, a cancel (command DELETE) too: ovs-ofctl
// 3.1 writes a 1.4+ cancel without one, and OVS refuses that with
// OFPBMC_BAD_LEN; so does this decoder.
//
// OpenFlow 1.3 has no command and no out_group: encoding a 1.3 monitor
// needs Command MonitorCommandAdd, OutGroup is not written, and decoding
// one gives GroupAny. match_len is written as OVS does (the ofp_match's
// length) and not relied on when reading: the ofp_match has its own.
type FlowMonitor struct {
	ID       uint32
	Command  uint8
	Flags    uint16
	OutPort  uint32
	OutGroup uint32
	TableID  uint8
	Match    oxm.Match
}

// NewFlowMonitor returns a monitor of every flow of every table.
func NewFlowMonitor(id uint32, flags uint16) FlowMonitor {
	return FlowMonitor{ID: id, Flags: flags, OutPort: PortAny, OutGroup: GroupAny, TableID: TableAll}
}

const flowMonitorLen = 16

func (fm *FlowMonitor) append(b []byte, version uint8) ([]byte, error) {
	start := len(b)
	if version < Version14 {
		if fm.Command != MonitorCommandAdd {
			return b, fmt.Errorf("command %d: OpenFlow 1.3 monitors only add (FlowMonitorCancel deletes)", fm.Command)
		}
		b = be.AppendUint32(b, fm.ID)
		b = be.AppendUint16(b, fm.Flags)
		b = be.AppendUint16(b, 0) // match_len, below
		b = be.AppendUint32(b, fm.OutPort)
		b = append(b, fm.TableID, 0, 0, 0)
	} else {
		b = be.AppendUint32(b, fm.ID)
		b = be.AppendUint32(b, fm.OutPort)
		b = be.AppendUint32(b, fm.OutGroup)
		b = be.AppendUint16(b, fm.Flags)
		b = append(b, fm.TableID, fm.Command)
	}
	mstart := len(b)
	var err error
	if b, err = appendMatch(b, &fm.Match); err != nil {
		return b[:start], fmt.Errorf("match: %w", err)
	}
	if version < Version14 {
		be.PutUint16(b[start+6:], be.Uint16(b[mstart+2:]))
	}
	return b, nil
}

// unmarshal decodes the monitor at the start of b and returns its length.
func (fm *FlowMonitor) unmarshal(b []byte, version uint8) (int, error) {
	if len(b) < flowMonitorLen {
		return 0, errTruncated("flow_monitor", b, 0, flowMonitorLen)
	}
	if version < Version14 {
		fm.ID = be.Uint32(b)
		fm.Flags = be.Uint16(b[4:])
		fm.OutPort = be.Uint32(b[8:])
		fm.TableID = b[12]
		fm.Command, fm.OutGroup = MonitorCommandAdd, GroupAny
	} else {
		fm.ID = be.Uint32(b)
		fm.OutPort = be.Uint32(b[4:])
		fm.OutGroup = be.Uint32(b[8:])
		fm.Flags = be.Uint16(b[12:])
		fm.TableID, fm.Command = b[14], b[15]
	}
	n, err := unmarshalMatch(&fm.Match, b[flowMonitorLen:])
	if err != nil {
		return 0, fmt.Errorf("match: %w", err)
	}
	return flowMonitorLen + n, nil
}

// FlowMonitorRequest asks for flow updates: in OpenFlow 1.3 an ONF
// experimenter multipart request (ONFST_FLOW_MONITOR), in 1.4+ an
// OFPMP_FLOW_MONITOR request, either holding one or more monitors. A 1.4+
// request whose monitor has command MonitorCommandDelete cancels it
// (NewFlowMonitorCancel).
type FlowMonitorRequest struct {
	Header
	Flags    uint16 // multipart flags
	Monitors []FlowMonitor
}

// NewFlowMonitorCancel cancels monitor id: a FlowMonitorCancel in OpenFlow
// 1.3, a FlowMonitorRequest with command DELETE (and an empty match, which
// OVS needs) in 1.4+.
func NewFlowMonitorCancel(version uint8, id uint32) Message {
	if version == 0 || version == Version13 {
		return &FlowMonitorCancel{Header: Header{Version: version}, ID: id}
	}
	fm := NewFlowMonitor(id, 0)
	fm.Command, fm.OutPort, fm.OutGroup, fm.TableID = MonitorCommandDelete, 0, 0, 0
	return &FlowMonitorRequest{Header: Header{Version: version}, Monitors: []FlowMonitor{fm}}
}

func (m *FlowMonitorRequest) AppendBinary(b []byte) ([]byte, error) {
	const name = "flow_monitor_request"
	if m.Version != 0 && m.Version < Version13 {
		return b, fmt.Errorf("%s: version %#x not supported", name, m.Version)
	}
	b, start := appendMPHeader(b, &m.Header, TypeMultipartRequest, MultipartFlowMonitor, ONFSTFlowMonitor, m.Flags)
	for i := range m.Monitors {
		var err error
		if b, err = m.Monitors[i].append(b, b[start]); err != nil {
			return b[:start], fmt.Errorf("%s: monitor[%d]: %w", name, i, err)
		}
	}
	return finish(b, start)
}

func (m *FlowMonitorRequest) UnmarshalBinary(b []byte) error {
	const name = "flow_monitor_request"
	flags, off, err := checkMP(&m.Header, b, TypeMultipartRequest, MultipartFlowMonitor, ONFSTFlowMonitor, name)
	if err != nil {
		return err
	}
	m.Flags, m.Monitors = flags, nil
	for i := 0; off < len(b); i++ {
		var fm FlowMonitor
		n, err := fm.unmarshal(b[off:], m.Version)
		if err != nil {
			return fmt.Errorf("%s: monitor[%d]: %w", name, i, err)
		}
		m.Monitors = append(m.Monitors, fm)
		off += n
	}
	return nil
}

// FlowUpdate is one entry of a flow monitor reply. A full update (events
// Initial, Added, Removed, Modified) carries the flow; Abbrev stands for
// the changes the controller's own request XID made; Paused and Resumed
// (OpenFlow 1.4+) carry nothing.
//
//	1.3 full (onf_flow_update_full): length u16 | event u16 | reason u16 |
//	     priority u16 | idle_timeout u16 | hard_timeout u16 | match_len u16 |
//	     table_id u8 | pad | cookie u64 | ofp_match | instructions
//	1.4 full (ofp_flow_update_full): length u16 | event u16 | table_id u8 |
//	     reason u8 | idle_timeout u16 | hard_timeout u16 | priority u16 |
//	     zeros 4 | cookie u64 | ofp_match | instructions
//	abbrev: length u16 = 8 | event u16 | xid u32
//	paused, resumed (1.4+): length u16 = 8 | event u16 | zeros 4
//
// Instructions come only when the monitor asked for them (MonitorActions).
// As for FlowStats, RawMatch and RawInstructions alias the message, and a
// reply decoded Shallow leaves Match and Instructions for Decode.
type FlowUpdate struct {
	Event        uint16
	TableID      uint8
	Reason       uint16 // OFPRR_* of a Removed update; a byte in 1.4+
	Priority     uint16
	IdleTimeout  uint16
	HardTimeout  uint16
	Cookie       uint64
	Match        oxm.Match
	Instructions action.Instructions
	XID          uint32 // Abbrev: the controller's request

	RawMatch, RawInstructions []byte

	// Raw is an entry of event FlowUpdateUnknown, whole (length and
	// event included), as received.
	Raw []byte
}

const (
	flowUpdateFullLen  = 24
	flowUpdateShortLen = 8
)

// onfEvent maps FlowUpdate events to OpenFlow 1.3's ONFFME_* and back.
var onfEvent = map[uint16]uint16{FlowUpdateInitial: 0, FlowUpdateAdded: 0, FlowUpdateRemoved: 1, FlowUpdateModified: 2, FlowUpdateAbbrev: 3}

var fromONFEvent = [...]uint16{FlowUpdateAdded, FlowUpdateRemoved, FlowUpdateModified, FlowUpdateAbbrev}

func (u *FlowUpdate) append(b []byte, version uint8) ([]byte, error) {
	start := len(b)
	if u.Event == FlowUpdateUnknown {
		if len(u.Raw) < 4 {
			return b, fmt.Errorf("unknown event: %d raw bytes", len(u.Raw))
		}
		b = append(b, u.Raw...)
		return patchLen16(b, start)
	}
	wire := u.Event
	if version < Version14 {
		e, ok := onfEvent[u.Event]
		if !ok {
			return b, fmt.Errorf("event %d has no OpenFlow 1.3 form", u.Event)
		}
		wire = e
	}
	b = be.AppendUint16(b, 0)
	b = be.AppendUint16(b, wire)
	switch u.Event {
	case FlowUpdateAbbrev:
		return patchLen16(be.AppendUint32(b, u.XID), start)
	case FlowUpdatePaused, FlowUpdateResumed:
		return patchLen16(append(b, 0, 0, 0, 0), start)
	case FlowUpdateInitial, FlowUpdateAdded, FlowUpdateRemoved, FlowUpdateModified:
	default:
		return b[:start], fmt.Errorf("event %d: unknown", u.Event)
	}
	if version < Version14 {
		b = be.AppendUint16(b, u.Reason)
		b = be.AppendUint16(b, u.Priority)
		b = be.AppendUint16(b, u.IdleTimeout)
		b = be.AppendUint16(b, u.HardTimeout)
		b = be.AppendUint16(b, 0) // match_len, below
		b = append(b, u.TableID, 0)
	} else {
		if u.Reason > 0xff {
			return b[:start], fmt.Errorf("reason %d does not fit OpenFlow 1.4's byte", u.Reason)
		}
		b = append(b, u.TableID, uint8(u.Reason))
		b = be.AppendUint16(b, u.IdleTimeout)
		b = be.AppendUint16(b, u.HardTimeout)
		b = be.AppendUint16(b, u.Priority)
		b = append(b, 0, 0, 0, 0)
	}
	b = be.AppendUint64(b, u.Cookie)
	mstart := len(b)
	var err error
	if b, err = appendMatch(b, &u.Match); err != nil {
		return b[:start], fmt.Errorf("match: %w", err)
	}
	if version < Version14 {
		be.PutUint16(b[start+12:], be.Uint16(b[mstart+2:]))
	}
	if b, err = appendInstructions(b, u.Instructions); err != nil {
		return b[:start], err
	}
	return patchLen16(b, start)
}

// patchLen16 writes the length of what starts at start into its first two
// bytes.
func patchLen16(b []byte, start int) ([]byte, error) {
	n := len(b) - start
	if n > 0xffff {
		return b[:start], ErrTooLong
	}
	be.PutUint16(b[start:], uint16(n))
	return b, nil
}

// unmarshal decodes the update at the start of b and returns its length.
func (u *FlowUpdate) unmarshal(b []byte, version uint8, shallow bool) (int, error) {
	if len(b) < 4 {
		return 0, errTruncated("flow_update", b, 0, 4)
	}
	n := int(be.Uint16(b))
	if n < 4 || n > len(b) || n%8 != 0 {
		return 0, fmt.Errorf("length %d, %d bytes left", n, len(b))
	}
	b = b[:n]
	*u = FlowUpdate{Event: FlowUpdateUnknown}
	wire := be.Uint16(b[2:])
	switch {
	case version >= Version14 && wire <= FlowUpdateResumed:
		u.Event = wire
	case version < Version14 && int(wire) < len(fromONFEvent):
		u.Event = fromONFEvent[wire]
	}
	switch u.Event {
	case FlowUpdateUnknown:
		u.Raw = append([]byte(nil), b...)
		return n, nil
	case FlowUpdateAbbrev, FlowUpdatePaused, FlowUpdateResumed:
		if n != flowUpdateShortLen {
			return 0, fmt.Errorf("event %d: length %d, want %d", u.Event, n, flowUpdateShortLen)
		}
		if u.Event == FlowUpdateAbbrev {
			u.XID = be.Uint32(b[4:])
		}
		return n, nil
	}
	if n < flowUpdateFullLen {
		return 0, fmt.Errorf("event %d: length %d, want at least %d", u.Event, n, flowUpdateFullLen)
	}
	if version < Version14 {
		u.Reason = be.Uint16(b[4:])
		u.Priority = be.Uint16(b[6:])
		u.IdleTimeout = be.Uint16(b[8:])
		u.HardTimeout = be.Uint16(b[10:])
		if ml := int(be.Uint16(b[12:])); flowUpdateFullLen+ml > n {
			return 0, fmt.Errorf("match_len %d, %d bytes left", ml, n-flowUpdateFullLen)
		}
		u.TableID = b[14]
	} else {
		u.TableID, u.Reason = b[4], uint16(b[5])
		u.IdleTimeout = be.Uint16(b[6:])
		u.HardTimeout = be.Uint16(b[8:])
		u.Priority = be.Uint16(b[10:])
	}
	u.Cookie = be.Uint64(b[16:])
	m, err := matchLen(b[flowUpdateFullLen:])
	if err != nil {
		return 0, err
	}
	u.RawMatch = b[flowUpdateFullLen : flowUpdateFullLen+m : flowUpdateFullLen+m]
	u.RawInstructions = b[flowUpdateFullLen+m : n]
	if shallow {
		return n, nil
	}
	return n, u.Decode(version)
}

// Decode fills a full update's Match and Instructions from RawMatch and
// RawInstructions; instructions the codec cannot read are kept raw.
func (u *FlowUpdate) Decode(version uint8) error {
	if u.RawMatch == nil {
		return nil // not a full update
	}
	if _, err := unmarshalMatch(&u.Match, u.RawMatch); err != nil {
		return fmt.Errorf("match: %w", err)
	}
	u.Instructions = decodeInstructionsOrRaw(version, u.RawInstructions)
	return nil
}

// FlowMonitorReply is a flow monitor reply: in OpenFlow 1.3 an ONF
// experimenter multipart reply (ONFST_FLOW_MONITOR), in 1.4+ an
// OFPMP_FLOW_MONITOR reply; one part, or from a Reassembler all parts'
// updates. Shallow, set before decoding, leaves full updates' Match and
// Instructions undecoded, as FlowStatsReply.Shallow does: a 100k-flow
// deletion is 100k updates.
type FlowMonitorReply struct {
	Header
	Flags   uint16
	Updates []FlowUpdate
	Shallow bool
}

func (m *FlowMonitorReply) AppendBinary(b []byte) ([]byte, error) {
	const name = "flow_monitor_reply"
	if m.Version != 0 && m.Version < Version13 {
		return b, fmt.Errorf("%s: version %#x not supported", name, m.Version)
	}
	b, start := appendMPHeader(b, &m.Header, TypeMultipartReply, MultipartFlowMonitor, ONFSTFlowMonitor, m.Flags)
	for i := range m.Updates {
		var err error
		if b, err = m.Updates[i].append(b, b[start]); err != nil {
			return b[:start], fmt.Errorf("%s: update[%d]: %w", name, i, err)
		}
	}
	return finish(b, start)
}

func (m *FlowMonitorReply) UnmarshalBinary(b []byte) error {
	const name = "flow_monitor_reply"
	flags, off, err := checkMP(&m.Header, b, TypeMultipartReply, MultipartFlowMonitor, ONFSTFlowMonitor, name)
	if err != nil {
		return err
	}
	m.Flags, m.Updates = flags, nil
	for i := 0; off < len(b); i++ {
		var u FlowUpdate
		n, err := u.unmarshal(b[off:], m.Version, m.Shallow)
		if err != nil {
			return fmt.Errorf("%s: update[%d]: %w", name, i, err)
		}
		m.Updates = append(m.Updates, u)
		off += n
	}
	return nil
}

// FlowMonitorCancel is OpenFlow 1.3's ONFT_FLOW_MONITOR_CANCEL (1870),
// struct nx_flow_monitor_cancel: header | 0x4f4e4600 | 1870 u32 | id u32.
// OpenFlow 1.4+ cancels with a FlowMonitorRequest (NewFlowMonitorCancel).
type FlowMonitorCancel struct {
	Header
	ID uint32
}

func (m *FlowMonitorCancel) AppendBinary(b []byte) ([]byte, error) {
	if m.Version != 0 && m.Version != Version13 {
		return b, fmt.Errorf("flow_monitor_cancel: version %#x: only OpenFlow 1.3 has this message", m.Version)
	}
	b, start := appendExperimenterHeader(b, &m.Header, ExperimenterONF, ONFTFlowMonitorCancel)
	b = be.AppendUint32(b, m.ID)
	return finish(b, start)
}

func (m *FlowMonitorCancel) UnmarshalBinary(b []byte) error {
	const name = "flow_monitor_cancel"
	if err := checkExperimenter(&m.Header, b, ExperimenterONF, ONFTFlowMonitorCancel, name); err != nil {
		return err
	}
	if len(b) != experimenterHeaderLen+4 {
		return fmt.Errorf("%s: %d bytes, want %d", name, len(b), experimenterHeaderLen+4)
	}
	m.ID = be.Uint32(b[16:])
	return nil
}

// FlowMonitorPaused is OpenFlow 1.3's ONFT_FLOW_MONITOR_PAUSED (1871): an
// ONF experimenter header alone. OVS has stopped sending updates but
// deletions of flows older than the pause.
type FlowMonitorPaused struct{ Header }

// FlowMonitorResumed is OpenFlow 1.3's ONFT_FLOW_MONITOR_RESUMED (1872): an
// ONF experimenter header alone, after the updates OVS held back.
type FlowMonitorResumed struct{ Header }

func (m *FlowMonitorPaused) AppendBinary(b []byte) ([]byte, error) {
	return appendONFEmpty(b, &m.Header, ONFTFlowMonitorPaused, "flow_monitor_paused")
}
func (m *FlowMonitorPaused) UnmarshalBinary(b []byte) error {
	return checkONFEmpty(&m.Header, b, ONFTFlowMonitorPaused, "flow_monitor_paused")
}
func (m *FlowMonitorResumed) AppendBinary(b []byte) ([]byte, error) {
	return appendONFEmpty(b, &m.Header, ONFTFlowMonitorResumed, "flow_monitor_resumed")
}
func (m *FlowMonitorResumed) UnmarshalBinary(b []byte) error {
	return checkONFEmpty(&m.Header, b, ONFTFlowMonitorResumed, "flow_monitor_resumed")
}

func appendONFEmpty(b []byte, h *Header, onft uint32, name string) ([]byte, error) {
	if h.Version != 0 && h.Version != Version13 {
		return b, fmt.Errorf("%s: version %#x: only OpenFlow 1.3 has this message", name, h.Version)
	}
	b, start := appendExperimenterHeader(b, h, ExperimenterONF, onft)
	return finish(b, start)
}

func checkONFEmpty(h *Header, b []byte, onft uint32, name string) error {
	if err := checkExperimenter(h, b, ExperimenterONF, onft, name); err != nil {
		return err
	}
	if len(b) != experimenterHeaderLen {
		return fmt.Errorf("%s: %d bytes, want %d", name, len(b), experimenterHeaderLen)
	}
	return nil
}

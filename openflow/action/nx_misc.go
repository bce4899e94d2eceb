package action

import (
	"fmt"
	"strconv"
	"strings"
)

// Nicira action subtypes of this file's family (lib/ofp-actions.c enum
// ofp_raw_action_type).
const (
	nxastMultipath      = 10
	nxastBundle         = 12
	nxastBundleLoad     = 13
	nxastWriteMetadata  = 22
	nxastSample         = 29
	nxastConjunction    = 34
	nxastSample2        = 38
	nxastSample3        = 41
	nxastClone          = 42
	nxastEncap          = 46
	nxastDecap          = 47
	nxastDecNSHTTL      = 48
	nxastCheckPktLarger = 49
	nxastDeleteField    = 50
	nxastDebugSlow      = 254
	nxastDebugRecirc    = 255
)

func init() {
	registerNX(nxastMultipath, decodeMultipath)
	registerNX(nxastBundle, decodeBundle)
	registerNX(nxastBundleLoad, decodeBundle)
	registerNX(nxastWriteMetadata, decodeNXWriteMetadata)
	registerNX(nxastSample, decodeSample)
	registerNX(nxastSample2, decodeSample)
	registerNX(nxastSample3, decodeSample)
	registerNX(nxastConjunction, decodeConjunction)
	registerNX(nxastClone, decodeClone)
	registerNX(nxastEncap, decodeEncap)
	registerNX(nxastDecap, decodeDecap)
	registerNX(nxastDecNSHTTL, decodeDecNSHTTL)
	registerNX(nxastCheckPktLarger, decodeCheckPktLarger)
	registerNX(nxastDeleteField, decodeDeleteField)
	registerNX(nxastDebugSlow, decodeDebug)
	registerNX(nxastDebugRecirc, decodeDebug)

	registerParser("multipath", parseMultipath)
	registerParser("bundle", parseBundle)
	registerParser("bundle_load", parseBundle)
	registerParser("sample", parseSample)
	registerParser("conjunction", parseConjunction)
	registerParser("clone", parseClone)
	registerParser("encap", parseEncap)
	registerParser("decap", parseDecap)
	registerParser("dec_nsh_ttl", parseDecNSHTTL)
	registerParser("check_pkt_larger", parseCheckPktLarger)
	registerParser("delete_field", parseDeleteField)
	registerParser("debug_slow", parseDebug)
	registerParser("debug_recirc", parseDebug)
}

func nxaError(ctx Context, where, name string) error {
	return fmt.Errorf("%s: %w", where, ofpErr(name))
}

// nxaSyntax is a SyntaxError about tok; the caller's framework adds the
// offset.
func nxaSyntax(tok, msg string) error { return &SyntaxError{Token: tok, Msg: msg} }

// nxaChomp drops one trailing comma (ds_chomp(s, ',')).
func nxaChomp(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == ',' {
		return b[:len(b)-1]
	}
	return b
}

// nxaBefore13 reports a version before OpenFlow 1.3, in which OVS does not
// know the NSH-era actions (encap, decap, dec_nsh_ttl).
func nxaBefore13(ctx Context) bool { return ctx.Version != 0 && ctx.Version < 4 }

// nxaSpan is strspn: the length of the prefix of s made of bytes in set.
func nxaSpan(s, set string) int {
	n := 0
	for n < len(s) && strings.IndexByte(set, s[n]) >= 0 {
		n++
	}
	return n
}

func nxaUint32(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 0, 32)
	return uint32(v), err
}

// nxaKV is one key[=:(]value of an action's arguments, off the offset of
// the value in the text split.
type nxaKV struct {
	key, value  string
	keyOff, off int
}

// shift places err at kv in the text that was split: at the value, or at
// the key when there is no value.
func (kv nxaKV) shift(err error) error {
	if kv.value == "" {
		return shiftErr(err, kv.keyOff, kv.key)
	}
	return shiftErr(err, kv.off, kv.value)
}

// nxaKeyValues splits s as ofputil_parse_key_value does (splitItems).
func nxaKeyValues(s string) ([]nxaKV, error) {
	var out []nxaKV
	for _, it := range splitItems(s) {
		out = append(out, nxaKV{key: it.key, value: it.val, keyOff: it.off, off: it.valOff})
	}
	return out, nil
}

func nxaParsePort(ctx Context, s string) (uint16, bool) {
	p, err := parsePort(ctx, s)
	return p, err == nil
}

// nxHashFields names enum nx_hash_fields (flow_hash_fields_to_str).
var nxHashFields = []string{"eth_src", "symmetric_l4", "symmetric_l3l4",
	"symmetric_l3l4+udp", "nw_src", "nw_dst", "symmetric_l3"}

// nxMPAlgs names enum nx_mp_algorithm.
var nxMPAlgs = []string{"modulo_n", "hash_threshold", "hrw", "iter_hash"}

func nxaIndex(names []string, s string) (uint16, bool) {
	for i, n := range names {
		if n == s {
			return uint16(i), true
		}
	}
	return 0, false
}

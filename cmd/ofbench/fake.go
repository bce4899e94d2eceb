package main

import (
	"bufio"
	"encoding/binary"
	"net"
	"sync/atomic"

	"github.com/ofactor/ofactor/openflow"
)

// fakeSwitch is the least of a switch that lets ofactor install a table
// it cannot hold (a million flows for the memory row): it answers HELLO,
// echo, barriers, bundle controls, the TLV table request and every
// multipart request (empty), and takes every other message without a word.
// It keeps no flows, so only ofactor's memory is measured.
type fakeSwitch struct {
	ln       net.Listener
	received atomic.Int64 // frames read
}

func startFake(path string) (*fakeSwitch, error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	f := &fakeSwitch{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f, nil
}

func (f *fakeSwitch) close() { f.ln.Close() }

func (f *fakeSwitch) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 1<<20)
	bw := bufio.NewWriterSize(c, 1<<16)
	hello, _ := openflow.NewHello(openflow.Version13).AppendBinary(nil)
	bw.Write(hello)
	bw.Flush()
	var buf []byte
	for {
		b, err := openflow.ReadMessage(br, buf)
		if err != nil {
			return
		}
		buf = b[:0]
		f.received.Add(1)
		if reply := fakeReply(b); reply != nil {
			bw.Write(reply)
		}
		if br.Buffered() == 0 {
			if bw.Flush() != nil {
				return
			}
		}
	}
}

// fakeReply returns the answer to one frame, or nil.
func fakeReply(b []byte) []byte {
	xid := binary.BigEndian.Uint32(b[4:])
	h := openflow.Header{Version: b[0], XID: xid}
	var m openflow.Message
	switch openflow.Type(b[1]) {
	case openflow.TypeEchoRequest:
		out := append([]byte(nil), b...)
		out[1] = byte(openflow.TypeEchoReply)
		return out
	case openflow.TypeBarrierRequest:
		out := append([]byte(nil), b[:openflow.HeaderLen]...)
		out[1] = byte(openflow.TypeBarrierReply)
		return out
	case openflow.TypeMultipartRequest:
		// struct ofp_multipart_reply: the same type, no flags, no body.
		out := append([]byte(nil), b[:openflow.HeaderLen+4]...)
		out = append(out, 0, 0, 0, 0)
		out[1] = byte(openflow.TypeMultipartReply)
		out[10], out[11] = 0, 0
		binary.BigEndian.PutUint16(out[2:], uint16(len(out)))
		return out
	case openflow.TypeExperimenter, openflow.TypeBundleControl:
		if len(b) < 16 {
			return nil
		}
		exp, sub := binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint32(b[12:])
		switch {
		case exp == openflow.ExperimenterNicira && sub == openflow.NXTTLVTableRequest:
			m = &openflow.TLVTableReply{Header: h, MaxOptionSpace: 256, MaxFields: 64}
		case exp == openflow.ExperimenterONF && sub == openflow.ONFTBundleControl, openflow.Type(b[1]) == openflow.TypeBundleControl:
			dec, err := openflow.Decode(b)
			bc, ok := dec.(*openflow.BundleControl)
			if err != nil || !ok {
				return nil
			}
			m = &openflow.BundleControl{Header: h, BundleID: bc.BundleID, Type: bc.Type + 1, Flags: bc.Flags}
		}
	}
	if m == nil {
		return nil
	}
	out, err := m.AppendBinary(nil)
	if err != nil {
		return nil
	}
	return out
}

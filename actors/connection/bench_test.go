package connection

import (
	"io"
	"testing"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// BenchmarkSend measures a Send of 1000 frames of 200 bytes through the
// actor to a peer that reads everything: encode, xids, queue and write.
func BenchmarkSend(b *testing.B) {
	sys := newSystem()
	sw := newFakeSwitch(b)
	s := newSink(b, sys)
	pid := sys.Root.Spawn(Props(Config{Target: sw.target(), Subscribers: nil}))
	b.Cleanup(func() { sys.Root.StopFuture(pid).Wait() })
	c := sw.accept()
	c.handshake(openflow.Version13)
	sys.Root.Send(pid, &messages.Subscribe{PID: s.pid})
	<-s.ch
	go io.Copy(io.Discard, c.br)
	msgs := make([]openflow.Message, 1000)
	for i := range msgs {
		msgs[i] = bulk(184)
	}
	b.SetBytes(int64(len(msgs) * 200))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sys.Root.Send(pid, &messages.Send{Msgs: msgs, ReplyTo: s.pid})
		if _, ok := (<-s.ch).(*messages.Sent); !ok {
			b.Fatal("not sent")
		}
	}
}

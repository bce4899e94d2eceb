package fleet

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/cluster"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
)

// publisher publishes one bridge's events on its topic in order, from a
// goroutine of its own, so that the actor never waits for the topic actor
// (a cluster request to whichever member holds it). A publish that fails
// (the topic's member just died) is logged and the next one goes on: the
// client does not depend on events alone (it polls GetStatus too).
// protoactor's BatchingProducer stops for good at its first failure.
type publisher struct {
	cl      *cluster.Cluster
	topic   string
	timeout time.Duration
	log     *zap.Logger

	mu     sync.Mutex
	queue  []proto.Message
	wake   chan struct{}
	closed bool
}

func newPublisher(cl *cluster.Cluster, topic string, timeout time.Duration, log *zap.Logger) *publisher {
	p := &publisher{cl: cl, topic: topic, timeout: timeout, log: log, wake: make(chan struct{}, 1)}
	go p.loop()
	return p
}

func (p *publisher) publish(msg proto.Message) {
	p.mu.Lock()
	if !p.closed {
		p.queue = append(p.queue, msg)
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// close ends the publisher once what is queued is published.
func (p *publisher) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *publisher) loop() {
	pub := p.cl.Publisher()
	for range p.wake {
		for {
			p.mu.Lock()
			if len(p.queue) == 0 {
				closed := p.closed
				p.mu.Unlock()
				if closed {
					return
				}
				break
			}
			msg := p.queue[0]
			p.queue = p.queue[1:]
			p.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
			_, err := pub.Publish(ctx, p.topic, msg)
			cancel()
			if err != nil {
				p.log.Warn("event not published", zap.String("type", fmt.Sprintf("%T", msg)), zap.Error(err))
			}
		}
	}
}

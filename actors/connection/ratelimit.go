package connection

import "time"

// limiter is a token bucket for noisy log lines (the seed's
// VLOG_RATE_LIMIT_INIT(5, 1)-style limits): burst lines at once, then rate
// per second. Only the actor uses it, so it needs no lock.
type limiter struct {
	rate, burst float64
	tokens      float64
	last        time.Time
	suppressed  int
}

func newLimiter(rate, burst float64) *limiter {
	return &limiter{rate: rate, burst: burst, tokens: burst}
}

// allow takes a token if there is one. It returns how many lines were
// suppressed since the last one allowed, for the line to mention.
func (l *limiter) allow(now time.Time) (ok bool, suppressed int) {
	if !l.last.IsZero() {
		l.tokens += now.Sub(l.last).Seconds() * l.rate
		if l.tokens > l.burst {
			l.tokens = l.burst
		}
	}
	l.last = now
	if l.tokens < 1 {
		l.suppressed++
		return false, 0
	}
	l.tokens--
	s := l.suppressed
	l.suppressed = 0
	return true, s
}

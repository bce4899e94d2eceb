package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times: 100 on
// every Linux this runs on.
const clockTicks = 100

// cpuOf returns the CPU seconds (user and system) a process has used so
// far, from /proc/PID/stat, or -1.
func cpuOf(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The command name (field 2) may hold spaces: count from its ")".
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return (utime + stime) / clockTicks
}

// vswitchdPID is the sandbox's ovs-vswitchd.
func (s *sandbox) vswitchdPID() (int, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, "ovs-vswitchd.pid"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// switchCPU returns the sandbox's ovs-vswitchd's CPU seconds so far.
func (s *sandbox) switchCPU() float64 {
	pid, err := s.vswitchdPID()
	if err != nil {
		return -1
	}
	return cpuOf(pid)
}

// usage is what one timed command took.
type usage struct {
	wall    time.Duration
	cpu     float64 // its own user+system seconds
	peakRSS int64   // bytes (ru_maxrss)
}

// timedUsage runs a command as timed does and also returns its CPU and
// peak resident set.
func timedUsage(name string, args ...string) (usage, error) {
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	u := usage{wall: time.Since(start)}
	if cmd.ProcessState == nil {
		return u, fmt.Errorf("%s: %v", name, err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru != nil {
		u.peakRSS = ru.Maxrss << 10
		u.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	if err != nil {
		s := out.String()
		return u, fmt.Errorf("%s: %v: %s", name, err, s[max(0, len(s)-800):])
	}
	return u, nil
}

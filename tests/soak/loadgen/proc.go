package main

// The controllers' own figures, read from /proc as `ps` and `top` would:
// VmRSS from /proc/PID/status, open descriptors from /proc/PID/fd, CPU
// time (utime + stime) from /proc/PID/stat.

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Linux reports /proc/PID/stat times in USER_HZ, 100 on every platform
// Linux runs on (it is not the kernel's HZ).
const userHZ = 100

type sample struct {
	at    time.Duration // since the first CSR was sent
	rssKB int64
	fds   int
	cpu   float64 // seconds
}

type proc struct {
	name    string
	pid     int
	samples []sample
	gone    bool
}

func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

func countFDs(pid int) (int, error) {
	d, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(d), err
}

func readCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count from its ")".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): utime is field 14, stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad times", pid)
	}
	return float64(u+st) / userHZ, nil
}

func (p *proc) take(at time.Duration) {
	if p.gone {
		return
	}
	rss, err1 := readRSS(p.pid)
	fds, err2 := countFDs(p.pid)
	cpu, err3 := readCPU(p.pid)
	if err1 != nil || err2 != nil || err3 != nil {
		p.gone = true
		return
	}
	p.samples = append(p.samples, sample{at: at, rssKB: rss, fds: fds, cpu: cpu})
}

// window: the samples taken between from and to.
func (p *proc) window(from, to time.Duration) []sample { return windowOf(p.samples, from, to) }

func windowOf(ss []sample, from, to time.Duration) []sample {
	var out []sample
	for _, s := range ss {
		if s.at >= from && s.at <= to {
			out = append(out, s)
		}
	}
	return out
}

func medianRSS(s []sample) int64 {
	if len(s) == 0 {
		return 0
	}
	v := make([]int64, len(s))
	for i := range s {
		v[i] = s[i].rssKB
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	return v[len(v)/2]
}

func maxFDs(s []sample) int {
	m := 0
	for _, x := range s {
		if x.fds > m {
			m = x.fds
		}
	}
	return m
}

// writeSeries: one line a second, the undecided CSRs then each process's
// figures (those of a sample taken in the same second).
func writeSeries(path string, backlog []sample, procs []*proc) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	fmt.Fprintf(bw, "seconds\tundecided")
	for _, p := range procs {
		fmt.Fprintf(bw, "\t%s_rss_kib\t%s_fds\t%s_cpu_s", p.name, p.name, p.name)
	}
	fmt.Fprintln(bw)
	for i, b := range backlog {
		fmt.Fprintf(bw, "%.1f\t%d", b.at.Seconds(), b.fds)
		for _, p := range procs {
			if i < len(p.samples) {
				s := p.samples[i]
				fmt.Fprintf(bw, "\t%d\t%d\t%.2f", s.rssKB, s.fds, s.cpu)
			} else {
				fmt.Fprintf(bw, "\t\t\t")
			}
		}
		fmt.Fprintln(bw)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

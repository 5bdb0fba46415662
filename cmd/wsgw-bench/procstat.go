package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ,
// 100 on every Linux architecture wsgw runs on).
const clockTick = 10 * time.Millisecond

// procStat is what -mode lambda reads of a process in /proc/PID/stat.
type procStat struct {
	pid, ppid int
	cpu       time.Duration // utime + stime
}

// parseProcStat reads a /proc/PID/stat line. The command name, in
// parentheses, may hold spaces and parentheses: the fields start after the
// last ')'.
func parseProcStat(b []byte) (procStat, bool) {
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 0 || closing < open {
		return procStat{}, false
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return procStat{}, false
	}
	// After ")": state ppid pgrp session tty tpgid flags minflt cminflt
	// majflt cmajflt utime stime ...
	f := bytes.Fields(b[closing+1:])
	if len(f) < 13 {
		return procStat{}, false
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	ut, err2 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err3 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return procStat{}, false
	}
	return procStat{pid: pid, ppid: ppid, cpu: time.Duration(ut+st) * clockTick}, true
}

// allProcs reads the stat of every process in /proc.
func allProcs() map[int]procStat {
	out := map[int]procStat{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		if s, ok := parseProcStat(b); ok {
			out[s.pid] = s
		}
	}
	return out
}

// treeCPU returns the CPU time of root and of its descendants (the function
// processes a gateway started), and the descendants' pids.
func treeCPU(procs map[int]procStat, root int) (self, children time.Duration, kids []int) {
	byParent := map[int][]int{}
	for _, s := range procs {
		byParent[s.ppid] = append(byParent[s.ppid], s.pid)
	}
	self = procs[root].cpu
	queue := append([]int(nil), byParent[root]...)
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		kids = append(kids, pid)
		children += procs[pid].cpu
		queue = append(queue, byParent[pid]...)
	}
	return self, children, kids
}

// rssKB returns the resident set of process pid in KiB (readRSS), 0 when
// unknown.
func rssKB(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	n, _ := readRSS(pid)
	return n
}

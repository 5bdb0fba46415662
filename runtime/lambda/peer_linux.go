package lambda

import (
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// On Linux the Runtime API of a process answers only connections opened by
// that process or one it started (its process group): the kernel's socket
// diagnostics (NETLINK_SOCK_DIAG) give the inode of the connecting socket,
// and /proc tells which process holds it. Another local program that finds
// the port cannot take or answer the function's invocations. The check runs
// once per connection (runtimes keep theirs alive), and when the kernel does
// not answer (no sock_diag, /proc hidden) connections are let through, as
// they are on other systems.

// peerCheck reports whether the TCP connection c, accepted on the Runtime
// API's listener, comes from process group pgid; unknown when it cannot
// tell.
func peerCheck(c net.Conn, pgid int) (ok, known bool) {
	local, ok1 := c.LocalAddr().(*net.TCPAddr)
	remote, ok2 := c.RemoteAddr().(*net.TCPAddr)
	if !ok1 || !ok2 || local.IP.To4() == nil || remote.IP.To4() == nil {
		return false, false
	}
	// The peer's socket: source is the remote end, destination our listener.
	inode, found, err := sockInode(remote, local)
	if err != nil {
		return false, false
	}
	if !found {
		return false, true // gone already, or not on this machine
	}
	target := "socket:[" + strconv.FormatUint(uint64(inode), 10) + "]"
	if holds(pgid, target) {
		return true, true
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return false, false
	}
	for _, e := range procs {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == pgid || pgrpOf(pid) != pgid {
			continue
		}
		if holds(pid, target) {
			return true, true
		}
	}
	return false, true
}

// holds reports whether process pid has a descriptor on target
// ("socket:[INODE]").
func holds(pid int, target string) bool {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	fds, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && l == target {
			return true
		}
	}
	return false
}

// pgrpOf returns the process group of pid from /proc/PID/stat, 0 when unknown.
func pgrpOf(pid int) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:]) // state ppid pgrp ...
	if len(f) < 3 {
		return 0
	}
	n, _ := strconv.Atoi(f[2])
	return n
}

// sockInode asks NETLINK_SOCK_DIAG for the TCP socket from src to dst and
// returns its inode.
func sockInode(src, dst *net.TCPAddr) (inode uint32, found bool, err error) {
	const (
		sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
		netlinkSockDiag  = 4  // NETLINK_SOCK_DIAG
		reqLen           = 16 + 56
	)
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, netlinkSockDiag)
	if err != nil {
		return 0, false, err
	}
	defer syscall.Close(fd)
	tv := syscall.Timeval{Sec: 1}
	syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)

	var req [reqLen]byte
	ne := binary.NativeEndian
	// struct nlmsghdr
	ne.PutUint32(req[0:], reqLen)
	ne.PutUint16(req[4:], sockDiagByFamily)
	ne.PutUint16(req[6:], syscall.NLM_F_REQUEST)
	ne.PutUint32(req[8:], 1) // sequence
	// struct inet_diag_req_v2
	req[16] = syscall.AF_INET
	req[17] = syscall.IPPROTO_TCP
	ne.PutUint32(req[20:], 0xffffffff) // every state
	// struct inet_diag_sockid: ports and addresses in network order
	binary.BigEndian.PutUint16(req[24:], uint16(src.Port))
	binary.BigEndian.PutUint16(req[26:], uint16(dst.Port))
	copy(req[28:32], src.IP.To4())
	copy(req[44:48], dst.IP.To4())
	ne.PutUint32(req[64:], 0xffffffff) // INET_DIAG_NOCOOKIE
	ne.PutUint32(req[68:], 0xffffffff)
	sa := &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}
	if err := syscall.Sendto(fd, req[:], 0, sa); err != nil {
		return 0, false, err
	}
	var buf [8192]byte
	n, _, err := syscall.Recvfrom(fd, buf[:], 0)
	if err != nil {
		return 0, false, err
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil {
		return 0, false, err
	}
	for _, m := range msgs {
		switch m.Header.Type {
		case syscall.NLMSG_ERROR:
			if len(m.Data) >= 4 {
				if e := int32(ne.Uint32(m.Data)); e == -int32(syscall.ENOENT) {
					return 0, false, nil
				} else if e != 0 {
					return 0, false, syscall.Errno(-e)
				}
			}
		case sockDiagByFamily:
			// struct inet_diag_msg: 4 bytes, sockid (48), expires, rqueue,
			// wqueue, uid, inode.
			if len(m.Data) >= 72 {
				return ne.Uint32(m.Data[68:]), true, nil
			}
		}
	}
	return 0, false, nil
}

package vm

import (
	"encoding/binary"

	"github.com/tetratelabs/wazero/api"
)

// The deterministic WASI preview 1 subset. Go's wasip1 runtime imports a
// handful of these; everything a contract can observe through them is a
// function of the instance's history and the block header:
//
//   - args and environment are empty;
//   - clock_time_get: the realtime clock is the block time (fixed epoch
//     during instantiation); the monotonic clock is a per-instance counter
//     that advances only when the guest sleeps (poll_oneoff);
//   - random_get fills with zeros: no contract may rely on it for secrecy,
//     and zeros make that obvious;
//   - fd_write to stdout/stderr is kept (capped) for diagnostics, never
//     printed by the node; other descriptors do not exist;
//   - the filesystem and sockets do not exist (EBADF / ENOSYS);
//   - proc_exit ends the call (a trap with the exit code).

// WASI errno values.
const (
	errnoSuccess = 0
	errnoBadf    = 8
	errnoInval   = 28
	errnoNosys   = 52
)

// monoStart is the monotonic clock of a new instance (Go's runtime refuses 0).
const monoStart = 1_000_000_000

// initEpochNanos is the realtime clock during instantiation (2020-01-01).
const initEpochNanos = 1577836800 * 1_000_000_000

func wasiFuncs() []hostFunc {
	p := func(ts ...api.ValueType) []api.ValueType { return ts }
	ret := p(i32)
	errno := func(n uint64) func(*callState, api.Module, []uint64) {
		return func(st *callState, _ api.Module, s []uint64) {
			st.charge(st.e.cfg.Gas.HostCall)
			s[0] = n
		}
	}
	zeroPair := func(st *callState, mod api.Module, s []uint64) { // *_sizes_get: 0 and 0
		st.charge(st.e.cfg.Gas.HostCall)
		var z [4]byte
		st.write(mod, uint32(s[0]), z[:], "wasi sizes_get")
		st.write(mod, uint32(s[1]), z[:], "wasi sizes_get")
		s[0] = errnoSuccess
	}
	fs := []hostFunc{
		{wasiModule, "args_get", p(i32, i32), ret, errno(errnoSuccess)},
		{wasiModule, "args_sizes_get", p(i32, i32), ret, zeroPair},
		{wasiModule, "environ_get", p(i32, i32), ret, errno(errnoSuccess)},
		{wasiModule, "environ_sizes_get", p(i32, i32), ret, zeroPair},
		{wasiModule, "clock_time_get", p(i32, i64, i32), ret, func(st *callState, mod api.Module, s []uint64) {
			st.charge(st.e.cfg.Gas.HostCall)
			var t uint64
			switch uint32(s[0]) {
			case 0: // realtime
				t = initEpochNanos
				if !st.init {
					t = uint64(st.block.TimeUnixMilli) * 1_000_000
				}
			case 1, 2, 3: // monotonic, process and thread CPU time
				t = st.inst.mono
			default:
				s[0] = errnoInval
				return
			}
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], t)
			st.write(mod, uint32(s[2]), b[:], "clock_time_get")
			s[0] = errnoSuccess
		}},
		{wasiModule, "clock_res_get", p(i32, i32), ret, func(st *callState, mod api.Module, s []uint64) {
			st.charge(st.e.cfg.Gas.HostCall)
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], 1)
			st.write(mod, uint32(s[1]), b[:], "clock_res_get")
			s[0] = errnoSuccess
		}},
		{wasiModule, "random_get", p(i32, i32), ret, func(st *callState, mod api.Module, s []uint64) {
			n := uint32(s[1])
			st.charge(st.e.cfg.Gas.HostCall + st.e.cfg.Gas.HostPerByte*uint64(n))
			b := st.read(mod, uint32(s[0]), n, "random_get")
			clear(b)
			s[0] = errnoSuccess
		}},
		{wasiModule, "fd_write", p(i32, i32, i32, i32), ret, wasiFdWrite},
		{wasiModule, "fd_read", p(i32, i32, i32, i32), ret, func(st *callState, mod api.Module, s []uint64) {
			st.charge(st.e.cfg.Gas.HostCall)
			if uint32(s[0]) != 0 {
				s[0] = errnoBadf
				return
			}
			var z [4]byte // stdin is empty
			st.write(mod, uint32(s[3]), z[:], "fd_read")
			s[0] = errnoSuccess
		}},
		{wasiModule, "fd_fdstat_get", p(i32, i32), ret, func(st *callState, mod api.Module, s []uint64) {
			st.charge(st.e.cfg.Gas.HostCall)
			if uint32(s[0]) > 2 {
				s[0] = errnoBadf
				return
			}
			var b [24]byte
			b[0] = 2                                        // character device
			binary.LittleEndian.PutUint64(b[8:], 0x40|0x20) // fd_write | poll_fd_readwrite... minimal rights
			st.write(mod, uint32(s[1]), b[:], "fd_fdstat_get")
			s[0] = errnoSuccess
		}},
		{wasiModule, "fd_fdstat_set_flags", p(i32, i32), ret, func(st *callState, _ api.Module, s []uint64) {
			st.charge(st.e.cfg.Gas.HostCall)
			fd := uint32(s[0])
			s[0] = errnoSuccess
			if fd > 2 {
				s[0] = errnoBadf
			}
		}},
		{wasiModule, "poll_oneoff", p(i32, i32, i32, i32), ret, wasiPollOneoff},
		{wasiModule, "sched_yield", nil, ret, errno(errnoSuccess)},
		{wasiModule, "proc_exit", p(i32), nil, func(st *callState, _ api.Module, s []uint64) {
			st.fail(CodeTrap, "exit code %d%s", uint32(s[0]), st.inst.debugTail())
		}},
		// Descriptors other than stdio and the filesystem do not exist.
		{wasiModule, "fd_close", p(i32), ret, errno(errnoBadf)},
		{wasiModule, "fd_fdstat_set_rights", p(i32, i64, i64), ret, errno(errnoBadf)},
		{wasiModule, "fd_filestat_get", p(i32, i32), ret, errno(errnoBadf)},
		{wasiModule, "fd_filestat_set_size", p(i32, i64), ret, errno(errnoBadf)},
		{wasiModule, "fd_filestat_set_times", p(i32, i64, i64, i32), ret, errno(errnoBadf)},
		{wasiModule, "fd_pread", p(i32, i32, i32, i64, i32), ret, errno(errnoBadf)},
		{wasiModule, "fd_pwrite", p(i32, i32, i32, i64, i32), ret, errno(errnoBadf)},
		{wasiModule, "fd_prestat_get", p(i32, i32), ret, errno(errnoBadf)},
		{wasiModule, "fd_prestat_dir_name", p(i32, i32, i32), ret, errno(errnoBadf)},
		{wasiModule, "fd_readdir", p(i32, i32, i32, i64, i32), ret, errno(errnoBadf)},
		{wasiModule, "fd_seek", p(i32, i64, i32, i32), ret, errno(errnoBadf)},
		{wasiModule, "fd_sync", p(i32), ret, errno(errnoBadf)},
		{wasiModule, "fd_datasync", p(i32), ret, errno(errnoBadf)},
		{wasiModule, "path_create_directory", p(i32, i32, i32), ret, errno(errnoNosys)},
		{wasiModule, "path_filestat_get", p(i32, i32, i32, i32, i32), ret, errno(errnoNosys)},
		{wasiModule, "path_filestat_set_times", p(i32, i32, i32, i32, i64, i64, i32), ret, errno(errnoNosys)},
		{wasiModule, "path_link", p(i32, i32, i32, i32, i32, i32, i32), ret, errno(errnoNosys)},
		{wasiModule, "path_open", p(i32, i32, i32, i32, i32, i64, i64, i32, i32), ret, errno(errnoNosys)},
		{wasiModule, "path_readlink", p(i32, i32, i32, i32, i32, i32), ret, errno(errnoNosys)},
		{wasiModule, "path_remove_directory", p(i32, i32, i32), ret, errno(errnoNosys)},
		{wasiModule, "path_rename", p(i32, i32, i32, i32, i32, i32), ret, errno(errnoNosys)},
		{wasiModule, "path_symlink", p(i32, i32, i32, i32, i32), ret, errno(errnoNosys)},
		{wasiModule, "path_unlink_file", p(i32, i32, i32), ret, errno(errnoNosys)},
		{wasiModule, "sock_accept", p(i32, i32, i32), ret, errno(errnoNosys)},
		{wasiModule, "sock_recv", p(i32, i32, i32, i32, i32, i32), ret, errno(errnoNosys)},
		{wasiModule, "sock_send", p(i32, i32, i32, i32, i32), ret, errno(errnoNosys)},
		{wasiModule, "sock_shutdown", p(i32, i32), ret, errno(errnoNosys)},
	}
	return fs
}

// wasiFdWrite keeps up to MaxDebugBytes of stdout/stderr per instance.
func wasiFdWrite(st *callState, mod api.Module, s []uint64) {
	g := &st.e.cfg.Gas
	st.charge(g.HostCall)
	fd, iovs, n := uint32(s[0]), uint32(s[1]), uint32(s[2])
	if fd != 1 && fd != 2 {
		s[0] = errnoBadf
		return
	}
	if n > 1024 {
		s[0] = errnoInval
		return
	}
	vec := st.read(mod, iovs, n*8, "fd_write")
	var total uint32
	for i := uint32(0); i < n; i++ {
		ptr := binary.LittleEndian.Uint32(vec[i*8:])
		l := binary.LittleEndian.Uint32(vec[i*8+4:])
		st.charge(g.HostPerByte * uint64(l))
		b := st.read(mod, ptr, l, "fd_write")
		st.inst.debugWrite(b, st.e.cfg.MaxDebugBytes)
		total += l
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], total)
	st.write(mod, uint32(s[3]), b[:], "fd_write")
	s[0] = errnoSuccess
}

// wasiPollOneoff completes every subscription at once: clock subscriptions
// advance the instance's monotonic clock by their timeout (so a sleeping
// guest wakes deterministically), descriptor subscriptions fail with EBADF.
func wasiPollOneoff(st *callState, mod api.Module, s []uint64) {
	st.charge(st.e.cfg.Gas.HostCall)
	in, out, n := uint32(s[0]), uint32(s[1]), uint32(s[2])
	if n == 0 || n > 64 {
		s[0] = errnoInval
		return
	}
	subs := append([]byte{}, st.read(mod, in, n*48, "poll_oneoff")...)
	events := make([]byte, n*32)
	var advance uint64
	for i := uint32(0); i < n; i++ {
		sub := subs[i*48:]
		ev := events[i*32:]
		copy(ev[0:8], sub[0:8]) // userdata
		tag := sub[8]
		ev[10] = tag
		switch tag {
		case 0: // clock
			timeout := binary.LittleEndian.Uint64(sub[24:])
			flags := binary.LittleEndian.Uint16(sub[40:])
			if flags&1 != 0 { // absolute
				if timeout > st.inst.mono {
					timeout -= st.inst.mono
				} else {
					timeout = 0
				}
			}
			advance = max(advance, timeout)
		default:
			binary.LittleEndian.PutUint16(ev[8:], errnoBadf)
		}
	}
	st.inst.mono += advance
	st.write(mod, out, events, "poll_oneoff")
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], n)
	st.write(mod, uint32(s[3]), b[:], "poll_oneoff")
	s[0] = errnoSuccess
}

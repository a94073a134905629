#!/usr/bin/env python3
"""Where each microsecond of a request goes, from a perf profile of a server (bench/README.md,
"Server on its own loop"):

    perf record -F 1999 -g -p PID -o server.data -- sleep 5     # while the load runs
    perf script -i server.data -F comm,tid,sym,dso,ip | bench/perf_breakdown.py CPU_US_PER_REQUEST

Each sample goes to the system call it was taken in (the __x64_sys_* frame of its kernel stack,
or a function only that call reaches, for stacks cut short), else to the user-space component of
its leaf function (by name: Asio, the loop, the codec, the registry, the allocator, ...); the
shares are then scaled to the CPU time per request measured over the same window.
"""
import sys, re, collections
cpu = float(sys.argv[1])
groups = collections.Counter(); total = 0
def user_group(sym, dso):
    s = sym
    if 'vfprintf' in s or 'snprintf' in s or '_IO_' in s or 'strchrnul' in s or 'vsnprintf' in s: return 'user: snprintf (peer address text)'
    if 'malloc' in s or '_int_free' in s or 'cfree' in s or s.startswith('free') or 'operator new' in s or 'operator delete' in s: return 'user: allocator'
    if 'pthread_mutex' in s or 'mutex' in s.lower(): return 'user: mutexes'
    if 'clock_gettime' in s or 'vdso' in dso or 'gettimeofday' in s: return 'user: clock'
    if re.search(r'^(epoll_wait|epoll_ctl|__libc_recv|accept4|__send|__GI___shutdown|__close|__GI___writev|__libc_send|recv|send|close|shutdown|__GI___libc_write|__GI___libc_read|__libc_read|__libc_write|syscall|eventfd_read|eventfd_write)$', s): return 'user: libc syscall stubs'
    if 'Registry' in s or 'Hashtable' in s or 'registry' in s or '_Hash' in s: return 'user: registry'
    if 'Decoder' in s or 'pegtl' in s or 'tcpchat::encode' in s or 'decode' in s or 'codec' in s or 'canonical' in s: return 'user: codec'
    if 'boost::asio' in s: return 'user: Asio (scheduler, reactor, timers)'
    if 'Poller' in s or 'Loop' in s or 'Shard::on_ready' in s or 'on_ready' in s: return 'user: poller / loop'
    if 'server_request' in s: return 'user: server_request (reply, log)'
    if 'log' in s.lower(): return 'user: logging'
    if 'mem' in s or 'str' in s: return 'user: libc memory/string'
    if 'tcpchat' in s or 'Connection' in s or 'Shard' in s: return 'user: connection state machine'
    if 'ngx_' in s: return 'user: nginx'
    return 'user: other (' + dso + ')'
KMAP = [('accept4','kernel: accept4'),('close','kernel: close'),('shutdown','kernel: shutdown (graceful close FIN)'),
        ('sendto','kernel: send (reply)'),('writev','kernel: send (reply)'),('recvfrom','kernel: recv'),
        ('epoll_wait','kernel: epoll_wait'),('epoll_pwait','kernel: epoll_wait'),('epoll_ctl','kernel: epoll_ctl'),
        ('read','kernel: read (eventfd)'),('write','kernel: write'),('timerfd_settime','kernel: timerfd'),('ioctl','kernel: ioctl')]
INNER = [('do_writev','kernel: send (reply)'),('__sys_sendto','kernel: send (reply)'),('tcp_sendmsg','kernel: send (reply)'),
  ('__sys_accept4','kernel: accept4'),('do_accept','kernel: accept4'),('__sys_recvfrom','kernel: recv'),('tcp_recvmsg','kernel: recv'),
  ('do_epoll_wait','kernel: epoll_wait'),('ep_poll','kernel: epoll_wait'),('do_epoll_ctl','kernel: epoll_ctl'),
  ('__sys_shutdown','kernel: shutdown (graceful close FIN)'),('__fput','kernel: close'),('task_work_run','kernel: close'),('tcp_close','kernel: close'),
  ('eventfd_read','kernel: read (eventfd)'),('eventfd_write','kernel: write (eventfd)')]
def flush(stack):
    global total
    if not stack: return
    total += 1
    # stack: list of (sym, dso), leaf first
    for sym, dso in stack:
        m = re.match(r'__(?:x64|do)_sys_(\w+)', sym)
        if m:
            name = m.group(1)
            for k, g in KMAP:
                if name == k: groups[g] += 1; return
            groups['kernel: ' + name] += 1; return
    names = [x for x, _ in stack]
    for pat, g in INNER:
        if any(pat == x for x in names): groups[g] += 1; return
    leaf_sym, leaf_dso = stack[0]
    if 'kernel' in leaf_dso:
        if any('schedule' in s or 'irq' in s or 'softirq' in s for s, _ in stack):
            groups['kernel: interrupts, scheduling outside calls'] += 1
        else:
            groups['kernel: entry/exit and other'] += 1
        return
    groups[user_group(leaf_sym, leaf_dso)] += 1
stack = []
for line in sys.stdin:
    line = line.rstrip('\n')
    if not line.strip():
        flush(stack); stack = []; continue
    if line[0] != ' ' and line[0] != '\t':
        flush(stack); stack = []; continue
    m = re.match(r'\s+[0-9a-f]+\s+(.*)\s+\((.*)\)$', line)
    if m:
        sym = re.sub(r'\+0x[0-9a-f]+$', '', m.group(1))
        stack.append((sym, m.group(2)))
flush(stack)
print(f"{'where':48s} {'share':>7s} {'us/req':>7s}")
for g, n in sorted(groups.items(), key=lambda x: -x[1]):
    print(f"{g:48s} {100*n/total:6.1f}% {cpu*n/total:7.2f}")
print(f"{'total':48s} {100:6.1f}% {cpu:7.2f}  ({total} samples)")

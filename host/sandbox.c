/* Sandboxes for untrusted Lua: one child process per sandbox (see sandbox.h, docs/sandbox.md).
 *
 * The first half of this file runs in the child: it locks the process down, builds the Lua
 * state with the prelude's allow-listed environment, and serves RUN requests. The second half
 * is the parent's side: spawning, the non-blocking protocol, the deadlines and the kill. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <lauxlib.h>
#include <lua.h>
#include <luajit.h>
#include <lualib.h>

#include "lua_sim.h"
#include "sandbox_env.lua.h"
#include "sandbox_proto.h"

extern int luaopen_cjson(lua_State *L);

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1 /* ASan reserves terabytes of shadow memory and makes odd syscalls */
#else
#define SANDBOX_ASAN 0
#endif

#define MB ((size_t)1 << 20)
#define CHILD_FD 3           /* the socket's descriptor in the child */
#define WHERE_SIGNAL SIGUSR1 /* parent -> child: report where you are, then exit */
#define HOOK_STEP 1000       /* jit = 0: instructions between two looks at the CPU flag */
#define STOP_GRACE_MS 100    /* time the child gets to answer WHERE_SIGNAL before SIGKILL */
#define HOOK_GRACE_MS 250    /* jit = 0: time the count hook gets before the parent steps in */
#define OUT_CHUNK 8192       /* print output is sent in frames of at most this many bytes */
#define OUT_LATENCY_MS 50    /* ... and at least this often while a run prints */
#define MAX_CHILD_FRAME (OUT_CHUNK + 8192) /* anything longer from the child is hostile */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double clock_ms(clockid_t id) {
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0) return -1;
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Copies at most dstlen - 1 bytes of src[0..n) and terminates. */
static void copy_str(char *dst, size_t dstlen, const char *src, size_t n) {
    if (!dstlen) return;
    if (n >= dstlen) n = dstlen - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Writes everything or fails; never raises SIGPIPE. */
static int send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* ===================================================================================== */
/* The child                                                                             */
/* ===================================================================================== */

/* The child is one process serving one sandbox: its state lives in these globals so that
 * the signal handlers can reach it. */
static struct child {
    sdsim_sandbox_limits lim;
    lua_State *L;
    int env_ref, tostring_ref;
    size_t mem_used;
    volatile sig_atomic_t mem_tripped; /* the allocator refused something during this run */
    volatile sig_atomic_t cpu_expired; /* jit = 0: the CPU timer fired */
    int cpu_tripped;                   /* jit = 0: the hook stopped the run */
    char cpu_where[LUA_IDSIZE + 96];   /* jit = 0: the first stop's message, with its line */
    timer_t cpu_timer;
    int cpu_ms;                 /* this run's CPU limit */
    char name[256];             /* this run's chunk name, as the parent gave it */
    char short_src[LUA_IDSIZE]; /* Lua's short form of it, as messages show it */
    char pend[OUT_CHUNK];       /* print output not sent yet */
    size_t pend_len, out_total;
    double last_flush;            /* ms, monotonic */
    volatile sig_atomic_t in_out; /* pend is being changed: the handler leaves it alone */
    int err_line;                 /* where the message handler found the error */
    char err_src[LUA_IDSIZE];
} C;

static char where_stack[64 * 1024]; /* the signal handlers run here, even on C-stack overflow */

/* Sends one frame with WHERE_SIGNAL blocked, so that the handler's own frame can never land in
 * the middle of this one. */
static int child_send(const sdsim_proto_buf *b) {
    if (b->failed) return -1;
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, WHERE_SIGNAL);
    sigprocmask(SIG_BLOCK, &block, &old);
    int rc = send_all(CHILD_FD, b->data, b->len);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Sends the pending print output. Uses no malloc: the WHERE_SIGNAL handler calls it too
 * (only when in_out is 0, i.e. when nobody else is using pend or the frame buffer). */
static void child_flush_output(void) {
    static char mem[OUT_CHUNK + 64];
    if (!C.pend_len) return;
    C.in_out = 1;
    sdsim_proto_buf b;
    sdsim_proto_buf_init_fixed(&b, mem, sizeof mem);
    size_t f = sdsim_proto_begin(&b, SDSIM_MSG_OUTPUT);
    sdsim_proto_put_str(&b, C.pend, C.pend_len);
    sdsim_proto_end(&b, f);
    C.pend_len = 0;
    if (child_send(&b) != 0) _exit(0); /* the parent is gone */
    C.in_out = 0;
}

/* print's sink. Output beyond the per-run cap is dropped here; the parent cuts it again (it
 * does not trust the child) and adds the note. */
static int child_out(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    size_t room = C.lim.output_bytes + 1 > C.out_total ? C.lim.output_bytes + 1 - C.out_total : 0;
    if (n > room) n = room;
    C.out_total += n;
    while (n) {
        if (C.pend_len == sizeof C.pend) child_flush_output();
        size_t k = sizeof C.pend - C.pend_len;
        if (k > n) k = n;
        C.in_out = 1;
        memcpy(C.pend + C.pend_len, s, k);
        C.pend_len += k;
        C.in_out = 0;
        s += k;
        n -= k;
    }
    /* Someone may be watching a long run print its progress: do not sit on it. */
    double now = now_ms();
    if (now - C.last_flush >= OUT_LATENCY_MS) {
        child_flush_output();
        C.last_flush = now;
    }
    return 0;
}

/* Counts every byte of the Lua heap; over the cap, refuses (Lua raises "not enough memory"
 * and the run is reported as killed_memory even if the script catches that error). */
static void *child_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        C.mem_used -= old;
        return NULL;
    }
    if (nsize > old && C.mem_used - old + nsize > C.lim.memory_bytes) {
        C.mem_tripped = 1;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p)
        C.mem_used = C.mem_used - old + nsize;
    else
        C.mem_tripped = 1;
    return p;
}

static int child_panic(lua_State *L) {
    (void)L;
    _exit(70); /* never run the parent's atexit handlers or flush its stdio copies */
}

/* The chunk's full name when Lua's short form of a source is the current chunk's. */
static const char *full_name(const char *short_src) {
    return strcmp(short_src, C.short_src) == 0 ? C.name : short_src;
}

/* The innermost Lua frame with a line, from `level` outwards; 0 when there is none. Reads the
 * stack only (no allocation), so that the signal handler may use it too. */
static int lua_position(lua_State *L, int level, char *src, size_t srclen) {
    lua_Debug ar;
    for (int i = level; i < level + 64 && lua_getstack(L, i, &ar); i++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            copy_str(src, srclen, ar.short_src, strlen(ar.short_src));
            return ar.currentline;
        }
    }
    return 0;
}

/* At the CPU deadline the parent sends WHERE_SIGNAL: say which line was running, then exit.
 * The Lua state may be mid-trace, so this only reads the stack; if even that fails, the
 * parent's SIGKILL follows a moment later. */
static void where_handler(int sig) {
    (void)sig;
    static char mem[1024];
    char src[LUA_IDSIZE] = "";
    if (!C.in_out && C.pend_len) child_flush_output();
    int line = C.L ? lua_position(C.L, 0, src, sizeof src) : 0;
    sdsim_proto_buf b;
    sdsim_proto_buf_init_fixed(&b, mem, sizeof mem);
    size_t f = sdsim_proto_begin(&b, SDSIM_MSG_WHERE);
    sdsim_proto_put_u32(&b, (uint32_t)line);
    sdsim_proto_put_cstr(&b, line ? full_name(src) : C.name);
    sdsim_proto_end(&b, f);
    if (!b.failed) send_all(CHILD_FD, b.data, b.len);
    _exit(0);
}

static void cpu_timer_handler(int sig) {
    (void)sig;
    C.cpu_expired = 1;
}

/* jit = 0: once the CPU timer has fired, fail at every instruction, so that a pcall in the
 * script only gets as far as its next instruction. */
static void cpu_hook(lua_State *L, lua_Debug *ar) {
    if (!C.cpu_expired) return;
    lua_getinfo(L, "Sl", ar);
    if (!C.cpu_tripped) { /* the line that was running when time ran out is the one to report */
        C.cpu_tripped = 1;
        snprintf(C.cpu_where, sizeof C.cpu_where, "%s:%d: CPU limit of %d ms exceeded",
                 ar->short_src, ar->currentline, C.cpu_ms);
        lua_sethook(L, cpu_hook, LUA_MASKCOUNT, 1);
    }
    lua_pushstring(L, C.cpu_where);
    lua_error(L);
}

/* The message handler: never calls a metamethod of the error object (a looping __tostring
 * or __index there must not run), and remembers where the error came from. */
static int child_msgh(lua_State *L) {
    C.err_line = lua_position(L, 1, C.err_src, sizeof C.err_src);
    int t = lua_type(L, 1);
    if (t == LUA_TSTRING || t == LUA_TNUMBER)
        lua_pushstring(L, lua_tostring(L, 1));
    else
        lua_pushfstring(L, "(error object is a %s value)", lua_typename(L, t));
    return 1;
}

/* Splits "src:LINE: message" into its parts; 0 when the message has no position. */
static int split_position(const char *msg, char *src, size_t srclen, const char **rest) {
    const char *end = strchr(msg, '\n');
    size_t n = end ? (size_t)(end - msg) : strlen(msg);
    for (size_t i = 0; i < n; i++) {
        if (msg[i] != ':' || i + 1 >= n || msg[i + 1] < '0' || msg[i + 1] > '9') continue;
        size_t j = i + 1;
        int line = 0;
        while (j < n && msg[j] >= '0' && msg[j] <= '9' && line < 100000000)
            line = line * 10 + (msg[j++] - '0');
        if (j < n && msg[j] == ':') {
            copy_str(src, srclen, msg, i);
            *rest = msg + j + 1 + (msg[j + 1] == ' ');
            return line;
        }
    }
    return 0;
}

typedef struct child_result {
    int status, line;
    char file[256], message[1024], values[1024];
} child_result;

/* Fills in file, line and message from the error message the handler produced. */
static void describe_error(child_result *r, const char *msg) {
    char src[256];
    const char *rest = msg;
    int line = split_position(msg, src, sizeof src, &rest);
    if (!line && C.err_line) {
        line = C.err_line;
        copy_str(src, sizeof src, C.err_src, strlen(C.err_src));
    }
    const char *file = line ? full_name(src) : C.name;
    copy_str(r->file, sizeof r->file, file, strlen(file));
    r->line = line;
    const char *nl = strchr(rest, '\n');
    copy_str(r->message, sizeof r->message, rest, nl ? (size_t)(nl - rest) : strlen(rest));
}

/* The chunk's return values through the real tostring, tab-separated; a value whose
 * __tostring fails shows as "?". */
static void describe_values(child_result *r, int base) {
    size_t at = 0;
    for (int i = base; i <= lua_gettop(C.L) && at + 1 < sizeof r->values; i++) {
        lua_rawgeti(C.L, LUA_REGISTRYINDEX, C.tostring_ref);
        lua_pushvalue(C.L, i);
        const char *s = "?";
        size_t n = 1;
        if (lua_pcall(C.L, 1, 1, 0) == 0 && lua_type(C.L, -1) == LUA_TSTRING)
            s = lua_tolstring(C.L, -1, &n);
        at += (size_t)snprintf(r->values + at, sizeof r->values - at, "%s%.*s",
                               i > base ? "\t" : "", (int)n, s);
        lua_pop(C.L, 1);
    }
}

static void arm_cpu_limit(int on) {
    if (C.lim.jit) return; /* the parent enforces it by killing the process */
    struct itimerspec its = {0};
    if (on) {
        its.it_value.tv_sec = C.cpu_ms / 1000;
        its.it_value.tv_nsec = (long)(C.cpu_ms % 1000) * 1000000L;
    }
    timer_settime(C.cpu_timer, 0, &its, NULL);
    C.cpu_expired = 0;
    if (on) C.cpu_tripped = 0;
    if (on)
        lua_sethook(C.L, cpu_hook, LUA_MASKCOUNT, HOOK_STEP);
    else
        lua_sethook(C.L, NULL, 0, 0);
}

/* Loads and runs one chunk in the sandbox's environment. */
static void child_run(const char *src, size_t len, child_result *r) {
    lua_State *L = C.L;
    int base = lua_gettop(L);
    memset(r, 0, sizeof *r);
    C.mem_tripped = 0;
    C.out_total = 0;
    C.err_line = 0;
    char chunk[260];
    snprintf(chunk, sizeof chunk, "@%s", C.name);
    lua_pushcfunction(L, child_msgh);
    int rc;
    /* LuaJIT looks for bytecode after a "#" line or a BOM too: refuse any ESC byte (the
     * signature's first), and load in text mode besides. */
    if (memchr(src, LUA_SIGNATURE[0], len)) {
        lua_pushstring(L, "bytecode is not allowed in the sandbox");
        rc = LUA_ERRSYNTAX;
    } else {
        rc = luaL_loadbufferx(L, src, len, chunk, "t");
    }
    if (rc == 0) {
        lua_Debug ar;
        lua_pushvalue(L, -1);
        lua_getinfo(L, ">S", &ar);
        copy_str(C.short_src, sizeof C.short_src, ar.short_src, strlen(ar.short_src));
        lua_rawgeti(L, LUA_REGISTRYINDEX, C.env_ref);
        lua_setfenv(L, -2);
        arm_cpu_limit(1);
        rc = lua_pcall(L, 0, LUA_MULTRET, base + 1);
        if (rc == 0) /* the values' __tostring is user code too: still under the limit */
            describe_values(r, base + 2);
        arm_cpu_limit(0);
    }
    if (C.mem_tripped) {
        r->status = SDSIM_SANDBOX_KILLED_MEMORY;
        copy_str(r->file, sizeof r->file, C.name, strlen(C.name));
        snprintf(r->message, sizeof r->message, "memory limit of %zu MB exceeded",
                 C.lim.memory_bytes / MB);
    } else if (C.cpu_tripped) {
        r->status = SDSIM_SANDBOX_KILLED_CPU;
        C.err_line = 0;
        describe_error(r, C.cpu_where);
    } else if (rc != 0) {
        r->status = SDSIM_SANDBOX_ERROR;
        const char *msg = lua_tostring(L, -1);
        describe_error(r, msg ? msg : "unknown error");
    } else {
        r->status = SDSIM_SANDBOX_OK;
        copy_str(r->file, sizeof r->file, C.name, strlen(C.name));
    }
    lua_settop(L, base);
    lua_gc(L, LUA_GCCOLLECT, 0);
}

static void child_send_result(const child_result *r) {
    child_flush_output();
    sdsim_proto_buf b = {0};
    size_t f = sdsim_proto_begin(&b, SDSIM_MSG_RESULT);
    sdsim_proto_put_u32(&b, (uint32_t)r->status);
    sdsim_proto_put_u32(&b, (uint32_t)r->line);
    sdsim_proto_put_cstr(&b, r->file);
    sdsim_proto_put_cstr(&b, r->message);
    sdsim_proto_put_cstr(&b, r->values);
    sdsim_proto_end(&b, f);
    if (child_send(&b) != 0) _exit(0);
    sdsim_proto_buf_free(&b);
}

/* Handles one RUN frame. */
static void child_handle_run(const char *payload, size_t len) {
    sdsim_proto_cursor c = {payload, len, 0};
    sdsim_proto_get_u32(&c); /* flags: none yet */
    C.cpu_ms = (int)sdsim_proto_get_u32(&c);
    sdsim_proto_get_cstr(&c, C.name, sizeof C.name);
    size_t n;
    const char *src = sdsim_proto_get_str(&c, &n);
    if (c.failed) _exit(71);
    child_result r;
    child_run(src, n, &r);
    child_send_result(&r);
}

static void child_serve(void) {
    sdsim_proto_reader rd;
    sdsim_proto_reader_init(&rd, C.lim.source_bytes + 4096);
    for (;;) {
        int type;
        const char *payload;
        size_t len;
        int got = sdsim_proto_next(&rd, &type, &payload, &len);
        if (got < 0) _exit(71);
        if (got > 0) {
            if (type == SDSIM_MSG_RUN) child_handle_run(payload, len);
            sdsim_proto_reader_pop(&rd);
            continue;
        }
        char *space = sdsim_proto_reader_space(&rd, 65536);
        if (!space) _exit(72);
        ssize_t k = recv(CHILD_FD, space, 65536, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) _exit(0); /* the parent closed the socket: this sandbox is over */
        sdsim_proto_reader_commit(&rd, (size_t)k);
    }
}

/* Builds the state: standard libraries (the prelude needs them), cjson, the prelude's
 * environment, which then replaces the real globals for good. */
static int child_build_state(void) {
    lua_State *L = lua_newstate(child_alloc, NULL);
    if (!L) return -1;
    C.L = L;
    lua_atpanic(L, child_panic);
    luaL_openlibs(L);
    /* After luaL_openlibs: opening the jit library turns the JIT (back) on. */
    if (!C.lim.jit) luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
    lua_getglobal(L, "tostring");
    C.tostring_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (luaL_loadbuffer(L, sdsim_sandbox_prelude, sizeof sdsim_sandbox_prelude - 1,
                        "=sandbox_prelude") != 0)
        return -1;
    lua_newtable(L);
    lua_pushcfunction(L, child_out);
    lua_setfield(L, -2, "out");
    lua_pushcfunction(L, luaopen_cjson);
    if (lua_pcall(L, 0, 1, 0) != 0) return -1;
    lua_setfield(L, -2, "cjson");
    if (lua_pcall(L, 1, 1, 0) != 0 || !lua_istable(L, -1)) return -1;
    /* The sim module is trusted code: opened while the real globals are still in place,
     * then put into the environment. */
    if (C.lim.sim_module && sdsim_lua_sim_sandbox_open(L, lua_gettop(L)) != 0) return -1;
    lua_pushvalue(L, -1);
    C.env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_replace(L, LUA_GLOBALSINDEX);
    lua_gc(L, LUA_GCCOLLECT, 0);
    return 0;
}

/* The socket becomes CHILD_FD (the lock-down closes everything else). */
static int child_socket(int sock) {
    if (sock == CHILD_FD) return 0;
    int high = fcntl(sock, F_DUPFD, 16); /* out of the way of CHILD_FD */
    if (high < 0 || dup2(high, CHILD_FD) != CHILD_FD) return -1;
    return 0;
}

static int is_kept(int fd, const int *keep, int nkeep) {
    for (int i = 0; i < nkeep; i++)
        if (keep[i] == fd) return 1;
    return 0;
}

/* Closes [lo, hi]. */
static void close_span(unsigned lo, unsigned hi) {
    if (lo > hi) return;
    if (syscall(SYS_close_range, lo, hi, 0) != 0) {
        for (unsigned fd = lo; fd <= hi && fd < 65536; fd++)
            close((int)fd);
    }
}

/* Descriptors: 0-2 not kept point at /dev/null (stdio writing there must not reach a file
 * the next open would get), every other descriptor but the kept ones closes. */
static int lockdown_fds(const int *keep, int nkeep) {
    int devnull = open("/dev/null", O_RDWR);
    if (devnull < 0) return -1;
    for (int fd = 0; fd <= 2; fd++)
        if (fd != devnull && !is_kept(fd, keep, nkeep) && dup2(devnull, fd) != fd) return -1;
    unsigned from = 3;
    for (;;) { /* the kept descriptors above 2, in ascending order, split the spans */
        int next = -1;
        for (int i = 0; i < nkeep; i++)
            if (keep[i] >= (int)from && (next < 0 || keep[i] < next)) next = keep[i];
        if (next < 0) break;
        close_span(from, (unsigned)next - 1);
        from = (unsigned)next + 1;
    }
    close_span(from, ~0U);
    return 0;
}

/* The address space in use now (a fork carries the parent's mappings). */
static size_t vm_size(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1) pages = 0;
        fclose(f);
    }
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

static void set_limit(int resource, rlim_t soft, rlim_t hard) {
    struct rlimit rl = {soft, hard};
    setrlimit(resource, &rl);
}

static void lockdown_rlimits(const sdsim_lockdown *ld) {
    set_limit(RLIMIT_CORE, 0, 0);
    if (!ld->file_output) set_limit(RLIMIT_FSIZE, 0, 0);
    set_limit(RLIMIT_NPROC, 0, 0);
    /* SIGXCPU at the soft limit (the parent reports it), SIGKILL after the grace. */
    if (ld->cpu_s > 0) {
        rlim_t cpu = (rlim_t)ld->cpu_s;
        set_limit(RLIMIT_CPU, cpu, cpu + (rlim_t)(ld->cpu_grace_s > 0 ? ld->cpu_grace_s : 1));
    }
    if (!SANDBOX_ASAN && ld->as_extra) {
        rlim_t as = vm_size() + ld->as_extra;
        set_limit(RLIMIT_AS, as, as);
    }
    int high = 2;
    for (int i = 0; i < ld->nkeep; i++)
        if (ld->keep_fds[i] > high) high = ld->keep_fds[i];
    set_limit(RLIMIT_NOFILE, (rlim_t)high + 1, (rlim_t)high + 1);
}

static void child_signals(void) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    stack_t ss = {.ss_sp = where_stack, .ss_size = sizeof where_stack};
    sigaltstack(&ss, NULL);
    struct sigaction sa = {0};
    sa.sa_handler = where_handler;
    sa.sa_flags = SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    sigaction(WHERE_SIGNAL, &sa, NULL);
    sa.sa_handler = cpu_timer_handler;
    sa.sa_flags = SA_ONSTACK | SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct sigevent sev = {0};
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGALRM;
    timer_create(CLOCK_PROCESS_CPUTIME_ID, &sev, &C.cpu_timer);
}

#ifndef AUDIT_ARCH_NATIVE
#if defined(__x86_64__)
#define AUDIT_ARCH_NATIVE AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AUDIT_ARCH_NATIVE AUDIT_ARCH_AARCH64
#endif
#endif

/* A seccomp allow-list: what LuaJIT, malloc, stdio on kept descriptors, the socket and the
 * signal handlers need, and ioctl(TCGETS) alone (isatty: a plugin run's progress bar asks).
 * Any other system call kills the process (reported as crashed by SIGSYS). */
static int lockdown_seccomp(void) {
#ifdef AUDIT_ARCH_NATIVE
    static const int allowed[] = {
        SYS_read,        SYS_write,   SYS_recvfrom,      SYS_sendto,
        SYS_mmap,        SYS_munmap,  SYS_mremap,        SYS_mprotect,
        SYS_brk,         SYS_madvise, SYS_rt_sigreturn,  SYS_rt_sigprocmask,
        SYS_sigaltstack, SYS_exit,    SYS_exit_group,    SYS_clock_gettime,
        SYS_getrusage,   SYS_futex,   SYS_timer_settime, SYS_timer_gettime,
        SYS_getpid,      SYS_gettid,  SYS_getrandom,
    };
    enum { N = sizeof allowed / sizeof allowed[0] };
    struct sock_filter f[N + 12];
    int i = 0;
    f[i++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_NATIVE, 1, 0);
    f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    f[i++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    /* ioctl: over the N matches and the kill, to the check of its request. */
    f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, N + 1, 0);
    for (int k = 0; k < N; k++) /* match: over the rest, the kill and the ioctl check */
        f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)allowed[k],
                                              (unsigned char)(N - k + 3), 0);
    f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                          offsetof(struct seccomp_data, args[1]));
    f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TCGETS, 1, 0);
    f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {(unsigned short)i, f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
#else
    return -1;
#endif
}

static int cmp_int(const void *a, const void *b) {
    return *(const int *)a - *(const int *)b;
}

/* glibc's qsort asks sysconf(_SC_PHYS_PAGES) (the sysinfo system call, not allowed below) the
 * first time it sorts more than 1 KB, and keeps the answer: sort once now (the engine's
 * percentiles and the loaders sort after the lock-down). */
static void warm_qsort(void) {
    int v[1024];
    for (int i = 0; i < 1024; i++)
        v[i] = (i * 7919) % 1024;
    qsort(v, 1024, sizeof v[0], cmp_int);
}

int sdsim_sandbox_lockdown(const sdsim_lockdown *ld) {
    warm_qsort();
    if (lockdown_fds(ld->keep_fds, ld->nkeep) != 0) return -1;
    lockdown_rlimits(ld);
    if (ld->seccomp && !SANDBOX_ASAN && lockdown_seccomp() != 0) return -1;
    return 0;
}

static void child_main(int sock, const sdsim_sandbox_limits *lim, pid_t parent) {
    memset(&C, 0, sizeof C);
    C.lim = *lim;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0);
    setsid(); /* a terminal's ^C goes to the host, which then takes the child down */
    child_signals();
    if (child_socket(sock) != 0) _exit(73);
    if (child_build_state() != 0) _exit(74);
    /* Room beyond the Lua heap for JIT machine code, C stacks and the allocator's slack. */
    static const int keep[] = {CHILD_FD};
    sdsim_lockdown ld = {.keep_fds = keep,
                         .nkeep = 1,
                         .cpu_s = C.lim.lifetime_cpu_s,
                         .cpu_grace_s = 1,
                         .as_extra = C.lim.memory_bytes * 2 + 256 * MB,
                         .seccomp = C.lim.seccomp};
    if (sdsim_sandbox_lockdown(&ld) != 0) _exit(75);
    sdsim_proto_buf b = {0};
    sdsim_proto_end(&b, sdsim_proto_begin(&b, SDSIM_MSG_READY));
    if (child_send(&b) != 0) _exit(0);
    sdsim_proto_buf_free(&b);
    child_serve();
}

/* ===================================================================================== */
/* The parent                                                                            */
/* ===================================================================================== */

struct sdsim_sandbox {
    sdsim_sandbox_limits lim;
    char exec_path[PATH_MAX]; /* lim.exec_path points here */
    pid_t pid;
    int fd;
    int ready;           /* the child said READY */
    clockid_t cpu_clock; /* the child's CPU clock */
    int have_cpu_clock;
    sdsim_proto_buf out; /* bytes not yet written to the child */
    sdsim_proto_reader in;
    sdsim_sandbox_output_fn output_fn;
    void *output_ud;
    /* The run in progress. */
    int active;
    int stopping;         /* WHERE_SIGNAL sent; SIGKILL at stop_deadline */
    char stop_reason[96]; /* the message a kill at the deadline gives */
    double t_submit, stop_deadline, cpu_start;
    sdsim_sandbox_result res;
    size_t output_cap;
    int have_where;
};

void sdsim_sandbox_limits_default(sdsim_sandbox_limits *lim) {
    memset(lim, 0, sizeof *lim);
    lim->cpu_ms = 1000;
    lim->memory_bytes = 64 * MB;
    lim->output_bytes = 1 * MB;
    lim->source_bytes = 4 * MB;
    lim->jit = 1;
    lim->seccomp = 1;
    lim->lifetime_cpu_s = 600;
}

/* Zero fields take their defaults. */
static void complete_limits(sdsim_sandbox_limits *lim) {
    sdsim_sandbox_limits d;
    sdsim_sandbox_limits_default(&d);
    if (lim->cpu_ms <= 0) lim->cpu_ms = d.cpu_ms;
    if (lim->wall_ms <= 0)
        lim->wall_ms = 5 * lim->cpu_ms + 1000; /* CPU-bound code meets the CPU limit first,
                                                   even on a loaded machine */
    if (!lim->memory_bytes) lim->memory_bytes = d.memory_bytes;
    if (!lim->output_bytes) lim->output_bytes = d.output_bytes;
    if (!lim->source_bytes) lim->source_bytes = d.source_bytes;
    if (lim->lifetime_cpu_s <= 0) lim->lifetime_cpu_s = d.lifetime_cpu_s;
}

/* The limits as one argument for an exec'd child, and back. */
static void limits_spec(const sdsim_sandbox_limits *l, pid_t parent, char *buf, size_t len) {
    snprintf(buf, len, "1:%d:%d:%zu:%zu:%zu:%d:%d:%d:%d:%d", l->cpu_ms, l->wall_ms, l->memory_bytes,
             l->output_bytes, l->source_bytes, l->jit, l->seccomp, l->lifetime_cpu_s, (int)parent,
             l->sim_module);
}

int sdsim_sandbox_child_entry(const char *spec) {
    sdsim_sandbox_limits l;
    sdsim_sandbox_limits_default(&l);
    int parent = 0;
    int n = spec ? sscanf(spec, "1:%d:%d:%zu:%zu:%zu:%d:%d:%d:%d:%d", &l.cpu_ms, &l.wall_ms,
                          &l.memory_bytes, &l.output_bytes, &l.source_bytes, &l.jit, &l.seccomp,
                          &l.lifetime_cpu_s, &parent, &l.sim_module)
                 : 0;
    if (n != 9 && n != 10) return 2;
    l.exec_path = NULL;
    child_main(CHILD_FD, &l, (pid_t)parent);
    _exit(0);
}

/* In the forked child, when exec_path is set: only async-signal-safe calls until execv,
 * since the host may have other threads. */
static void exec_child(int sock, const char *path, char *spec) {
    if (sock == CHILD_FD)
        fcntl(sock, F_SETFD, 0);
    else if (dup2(sock, CHILD_FD) != CHILD_FD) /* dup2 clears close-on-exec */
        _exit(76);
    char *argv[] = {(char *)path, "script", "--sandbox-child", spec, NULL};
    execv(path, argv);
    _exit(77);
}

/* Forks a fresh child; does not wait for READY (sdsim_sandbox_poll reads it). */
static int spawn(sdsim_sandbox *s, char *err, int errlen) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        snprintf(err, (size_t)errlen, "sandbox: socketpair: %s", strerror(errno));
        return -1;
    }
    pid_t parent = getpid();
    char spec[256];
    limits_spec(&s->lim, parent, spec, sizeof spec);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, (size_t)errlen, "sandbox: fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        close(sv[0]);
        if (s->lim.exec_path) exec_child(sv[1], s->lim.exec_path, spec);
        child_main(sv[1], &s->lim, parent);
        _exit(0);
    }
    close(sv[1]);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    s->pid = pid;
    s->fd = sv[0];
    s->ready = 0;
    s->have_cpu_clock = clock_getcpuclockid(pid, &s->cpu_clock) == 0;
    sdsim_proto_reader_free(&s->in);
    sdsim_proto_reader_init(&s->in, MAX_CHILD_FRAME);
    s->out.len = 0;
    s->out.failed = 0;
    return 0;
}

/* The child's CPU time in ms (-1 when unknown). */
static double child_cpu_ms(const sdsim_sandbox *s) {
    if (s->have_cpu_clock) {
        double v = clock_ms(s->cpu_clock);
        if (v >= 0) return v;
    }
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)s->pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* fields after the command name */
    unsigned long utime, stime;
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

/* Waits for the child to be gone (a few ms at most: it closed its socket or was killed) and
 * returns its wait status. */
static int reap(sdsim_sandbox *s) {
    int status = 0;
    for (int i = 0; i < 50; i++) {
        pid_t r = waitpid(s->pid, &status, WNOHANG);
        if (r == s->pid || (r < 0 && errno != EINTR)) goto done;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    kill(s->pid, SIGKILL);
    while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR) {
    }
done:
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    s->pid = 0;
    s->ready = 0;
    return status;
}

/* Ends the child now (a discarded state, a broken protocol). A SIGKILLed process is gone
 * at once, so waiting for it does not block for long. */
static int kill_child(sdsim_sandbox *s) {
    if (!s->pid) return 0;
    kill(s->pid, SIGKILL);
    int status = 0;
    while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    s->pid = 0;
    s->ready = 0;
    return status;
}

sdsim_sandbox *sdsim_sandbox_start(const sdsim_sandbox_limits *lim, char *err, int errlen) {
    sdsim_sandbox *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, (size_t)errlen, "sandbox: out of memory");
        return NULL;
    }
    if (lim)
        s->lim = *lim;
    else
        sdsim_sandbox_limits_default(&s->lim);
    complete_limits(&s->lim);
    if (s->lim.exec_path) {
        snprintf(s->exec_path, sizeof s->exec_path, "%s", s->lim.exec_path);
        s->lim.exec_path = s->exec_path;
    }
    s->fd = -1;
    if (spawn(s, err, errlen) != 0) {
        free(s);
        return NULL;
    }
    /* Wait for READY so that a child that cannot start is an error here, not later. */
    double deadline = now_ms() + 5000;
    while (!s->ready) {
        int left = (int)(deadline - now_ms());
        struct pollfd p = {s->fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, left) < 0) {
            if (errno == EINTR && left > 0) continue;
            break;
        }
        char *space = sdsim_proto_reader_space(&s->in, 4096);
        ssize_t k = space ? recv(s->fd, space, 4096, 0) : -1;
        if (k <= 0) break;
        sdsim_proto_reader_commit(&s->in, (size_t)k);
        int type;
        const char *payload;
        size_t len;
        if (sdsim_proto_next(&s->in, &type, &payload, &len) == 1 && type == SDSIM_MSG_READY) {
            sdsim_proto_reader_pop(&s->in);
            s->ready = 1;
        }
    }
    if (!s->ready) {
        int st = kill_child(s);
        snprintf(err, (size_t)errlen, "sandbox: the child process did not start (%s %d)",
                 WIFSIGNALED(st) ? "signal" : "exit status",
                 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        sdsim_sandbox_stop(s);
        return NULL;
    }
    return s;
}

void sdsim_sandbox_stop(sdsim_sandbox *s) {
    if (!s) return;
    kill_child(s);
    sdsim_proto_buf_free(&s->out);
    sdsim_proto_reader_free(&s->in);
    sdsim_sandbox_result_free(&s->res);
    free(s);
}

void sdsim_sandbox_set_output(sdsim_sandbox *s, sdsim_sandbox_output_fn fn, void *ud) {
    s->output_fn = fn;
    s->output_ud = ud;
}

int sdsim_sandbox_fd(const sdsim_sandbox *s) {
    return s->fd;
}
int sdsim_sandbox_pid(const sdsim_sandbox *s) {
    return (int)s->pid;
}
int sdsim_sandbox_wants_write(const sdsim_sandbox *s) {
    return s->out.len > 0;
}

static int pump(sdsim_sandbox *s);

int sdsim_sandbox_submit(sdsim_sandbox *s, const char *name, const char *src, size_t len) {
    if (s->active) return -1;
    if (len > s->lim.source_bytes) return -1;
    if (s->pid && waitpid(s->pid, NULL, WNOHANG) == s->pid) { /* died while idle */
        close(s->fd);
        s->fd = -1;
        s->pid = 0;
    }
    char err[256];
    if (!s->pid && spawn(s, err, sizeof err) != 0) return -1;
    sdsim_sandbox_result_free(&s->res);
    memset(&s->res, 0, sizeof s->res);
    copy_str(s->res.file, sizeof s->res.file, name, strlen(name));
    size_t f = sdsim_proto_begin(&s->out, SDSIM_MSG_RUN);
    sdsim_proto_put_u32(&s->out, 0);
    sdsim_proto_put_u32(&s->out, (uint32_t)s->lim.cpu_ms);
    sdsim_proto_put_cstr(&s->out, s->res.file);
    sdsim_proto_put_str(&s->out, src, len);
    sdsim_proto_end(&s->out, f);
    if (s->out.failed) {
        s->out.len = 0;
        s->out.failed = 0;
        return -1;
    }
    s->active = 1;
    s->stopping = 0;
    s->have_where = 0;
    s->t_submit = now_ms();
    s->cpu_start = child_cpu_ms(s);
    pump(s); /* start writing now; what does not fit waits for the fd to be writable */
    return 0;
}

/* Collects print output up to the cap; past it, one note and nothing more. */
static void add_output(sdsim_sandbox *s, const char *p, size_t n) {
    sdsim_sandbox_result *r = &s->res;
    if (r->output_truncated) return;
    size_t room = s->lim.output_bytes - r->output_len;
    char note[96] = "";
    if (n > room) {
        r->output_truncated = 1;
        snprintf(note, sizeof note, "\n[output truncated at %zu bytes]\n", s->lim.output_bytes);
        n = room;
    }
    size_t extra = strlen(note);
    char *o = realloc(r->output, r->output_len + n + extra + 1);
    if (!o) return;
    r->output = o;
    memcpy(o + r->output_len, p, n);
    memcpy(o + r->output_len + n, note, extra);
    if (s->output_fn) {
        if (n) s->output_fn(s->output_ud, o + r->output_len, n);
        if (extra) s->output_fn(s->output_ud, note, extra);
    }
    r->output_len += n + extra;
    o[r->output_len] = '\0';
}

static void finish(sdsim_sandbox *s, sdsim_sandbox_result *out) {
    s->res.wall_ms = now_ms() - s->t_submit;
    *out = s->res;
    memset(&s->res, 0, sizeof s->res);
    s->active = 0;
    s->stopping = 0;
}

static void set_message(sdsim_sandbox_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_message(sdsim_sandbox_result *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
}

static void record_cpu(sdsim_sandbox *s) {
    double now = child_cpu_ms(s);
    if (now >= 0 && s->cpu_start >= 0) s->res.cpu_ms = now - s->cpu_start;
}

/* The child is gone or going: say why in the result. */
static void child_ended(sdsim_sandbox *s) {
    sdsim_sandbox_result *r = &s->res;
    record_cpu(s);
    int st = reap(s);
    int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    if (s->stopping) {
        r->status = SDSIM_SANDBOX_KILLED_CPU;
        set_message(r, "%s", s->stop_reason);
    } else if (sig == SIGXCPU) {
        r->status = SDSIM_SANDBOX_KILLED_CPU;
        set_message(r, "this sandbox's lifetime CPU limit of %d s was reached",
                    s->lim.lifetime_cpu_s);
    } else {
        r->status = SDSIM_SANDBOX_CRASHED;
        r->signal = sig;
        r->line = 0;
        if (sig) {
            const char *abbrev = sigabbrev_np(sig);
            set_message(r, "the Lua VM crashed (SIG%s); nothing else was affected",
                        abbrev ? abbrev : "?");
        } else {
            set_message(r, "the sandbox process exited unexpectedly (status %d)",
                        WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        }
    }
}

static void take_result(sdsim_sandbox *s, const char *payload, size_t len) {
    sdsim_sandbox_result *r = &s->res;
    sdsim_proto_cursor c = {payload, len, 0};
    uint32_t status = sdsim_proto_get_u32(&c);
    r->line = (int)sdsim_proto_get_u32(&c);
    sdsim_proto_get_cstr(&c, r->file, sizeof r->file);
    sdsim_proto_get_cstr(&c, r->message, sizeof r->message);
    sdsim_proto_get_cstr(&c, r->values, sizeof r->values);
    if (c.failed || status > SDSIM_SANDBOX_KILLED_MEMORY) {
        kill_child(s);
        r->status = SDSIM_SANDBOX_CRASHED;
        set_message(r, "the sandbox sent a malformed result");
        return;
    }
    r->status = (sdsim_sandbox_status)status;
    record_cpu(s);
    if (r->status == SDSIM_SANDBOX_KILLED_CPU || r->status == SDSIM_SANDBOX_KILLED_MEMORY)
        kill_child(s); /* a cut-off run leaves no state behind */
}

static void take_where(sdsim_sandbox *s, const char *payload, size_t len) {
    sdsim_proto_cursor c = {payload, len, 0};
    int line = (int)sdsim_proto_get_u32(&c);
    char file[256];
    sdsim_proto_get_cstr(&c, file, sizeof file);
    if (!c.failed && s->stopping) {
        s->res.line = line;
        copy_str(s->res.file, sizeof s->res.file, file, strlen(file));
        s->have_where = 1;
    }
}

/* Handles the frames received so far. 1: the run ended (result, or the child broke the
 * protocol), 0: carry on. */
static int handle_frames(sdsim_sandbox *s) {
    int type;
    const char *payload;
    size_t len;
    int got;
    while ((got = sdsim_proto_next(&s->in, &type, &payload, &len)) == 1) {
        int done = 0;
        if (type == SDSIM_MSG_READY) {
            s->ready = 1;
            s->cpu_start = child_cpu_ms(s); /* the start-up is not this run's CPU */
        } else if (type == SDSIM_MSG_OUTPUT) {
            sdsim_proto_cursor c = {payload, len, 0};
            size_t n;
            const char *text = sdsim_proto_get_str(&c, &n);
            if (!c.failed) add_output(s, text, n);
        } else if (type == SDSIM_MSG_RESULT && !s->stopping) {
            take_result(s, payload, len);
            done = 1;
        } else if (type == SDSIM_MSG_WHERE) {
            take_where(s, payload, len);
        }
        sdsim_proto_reader_pop(&s->in);
        if (done) return 1;
    }
    if (got < 0) {
        kill_child(s);
        s->res.status = SDSIM_SANDBOX_CRASHED;
        set_message(&s->res, "the sandbox sent a malformed message");
        return 1;
    }
    return 0;
}

/* Non-blocking I/O on the socket. 1 when the child has closed it (it is exiting). */
static int pump(sdsim_sandbox *s) {
    while (s->out.len) {
        ssize_t k = send(s->fd, s->out.data, s->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (k < 0) {
            s->out.len = 0; /* EPIPE: the child is gone; reading will say so */
            break;
        }
        sdsim_proto_consume(&s->out, (size_t)k);
    }
    for (;;) {
        char *space = sdsim_proto_reader_space(&s->in, 65536);
        if (!space) return 1;
        ssize_t k = recv(s->fd, space, 65536, MSG_DONTWAIT);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        if (k <= 0) return 1;
        sdsim_proto_reader_commit(&s->in, (size_t)k);
        if (s->in.len > 4 * MAX_CHILD_FRAME) return 0; /* handle what we have before reading more */
    }
}

/* The CPU limit the parent enforces: with jit = 0 the child's hook gets a grace first. */
static double cpu_limit_ms(const sdsim_sandbox *s) {
    return s->lim.cpu_ms + (s->lim.jit ? 0 : HOOK_GRACE_MS);
}

static double cpu_used_ms(const sdsim_sandbox *s) {
    double now = child_cpu_ms(s);
    return now < 0 || s->cpu_start < 0 ? 0 : now - s->cpu_start;
}

/* Starts the stop: ask the child where it is, SIGKILL after a short grace. */
static void begin_stop(sdsim_sandbox *s) {
    s->stopping = 1;
    s->stop_deadline = now_ms() + STOP_GRACE_MS;
    kill(s->pid, WHERE_SIGNAL);
}

static void check_deadlines(sdsim_sandbox *s) {
    double now = now_ms();
    if (s->stopping) {
        if (now >= s->stop_deadline) kill(s->pid, SIGKILL); /* the EOF that follows ends the run */
        return;
    }
    if (cpu_used_ms(s) >= cpu_limit_ms(s)) {
        snprintf(s->stop_reason, sizeof s->stop_reason, "CPU limit of %d ms exceeded",
                 s->lim.cpu_ms);
        begin_stop(s);
    } else if (now - s->t_submit >= s->lim.wall_ms) {
        snprintf(s->stop_reason, sizeof s->stop_reason, "time limit of %d ms (wall clock) exceeded",
                 s->lim.wall_ms);
        begin_stop(s);
    }
}

int sdsim_sandbox_poll(sdsim_sandbox *s, sdsim_sandbox_result *out) {
    if (!s->active) return -1;
    int eof = pump(s);
    if (handle_frames(s)) {
        finish(s, out);
        return 1;
    }
    if (eof) {
        child_ended(s);
        finish(s, out);
        return 1;
    }
    check_deadlines(s);
    if (s->stopping && now_ms() >= s->stop_deadline + 1000) {
        child_ended(s); /* SIGKILL was sent a second ago: do not wait for the EOF forever */
        finish(s, out);
        return 1;
    }
    return 0;
}

int sdsim_sandbox_timeout_ms(const sdsim_sandbox *s) {
    if (!s->active) return -1;
    double now = now_ms();
    double t;
    if (s->stopping) {
        t = s->stop_deadline - now;
    } else {
        /* CPU time cannot run faster than the wall clock in a one-thread child. */
        double cpu_left = cpu_limit_ms(s) - cpu_used_ms(s);
        double wall_left = s->t_submit + s->lim.wall_ms - now;
        t = cpu_left < wall_left ? cpu_left : wall_left;
    }
    return t < 1 ? 1 : (int)t + 1;
}

int sdsim_sandbox_run_string(sdsim_sandbox *s, const char *name, const char *src, size_t len,
                             sdsim_sandbox_result *out) {
    memset(out, 0, sizeof *out);
    if (sdsim_sandbox_submit(s, name, src, len) != 0) {
        out->status = SDSIM_SANDBOX_ERROR;
        copy_str(out->file, sizeof out->file, name, strlen(name));
        if (len > s->lim.source_bytes)
            set_message(out, "larger than the limit of %zu bytes", s->lim.source_bytes);
        else
            set_message(out, "the sandbox could not start a run");
        return -1;
    }
    for (;;) {
        if (sdsim_sandbox_poll(s, out) == 1) return 0;
        struct pollfd p = {s->fd, POLLIN | (s->out.len ? POLLOUT : 0), 0};
        poll(&p, 1, sdsim_sandbox_timeout_ms(s));
    }
}

int sdsim_sandbox_run_file(sdsim_sandbox *s, const char *path, sdsim_sandbox_result *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = s->lim.source_bytes + 1;
    if (f) {
        buf = malloc(cap);
        n = buf ? fread(buf, 1, cap, f) : 0;
        fclose(f);
    }
    if (!buf) {
        out->status = SDSIM_SANDBOX_ERROR;
        copy_str(out->file, sizeof out->file, path, strlen(path));
        set_message(out, "cannot open: %s", f ? "out of memory" : strerror(errno));
        return -1;
    }
    int rc = sdsim_sandbox_run_string(s, path, buf, n, out);
    free(buf);
    return rc;
}

void sdsim_sandbox_result_free(sdsim_sandbox_result *r) {
    free(r->output);
    r->output = NULL;
    r->output_len = 0;
}

const char *sdsim_sandbox_status_name(sdsim_sandbox_status st) {
    switch (st) {
    case SDSIM_SANDBOX_OK:
        return "ok";
    case SDSIM_SANDBOX_ERROR:
        return "error";
    case SDSIM_SANDBOX_KILLED_CPU:
        return "killed_cpu";
    case SDSIM_SANDBOX_KILLED_MEMORY:
        return "killed_memory";
    case SDSIM_SANDBOX_CRASHED:
        return "crashed";
    }
    return "?";
}

void sdsim_sandbox_result_line(const sdsim_sandbox_result *r, char *buf, size_t len) {
    if (r->line > 0)
        snprintf(buf, len, "%s:%d: %s", r->file, r->line, r->message);
    else
        snprintf(buf, len, "%s: %s", r->file, r->message);
}

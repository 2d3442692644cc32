/* Sandboxes for untrusted Lua (component plugins, failure scenarios, REPL input).
 *
 * Each sandbox is a child process (a fork of the host) holding one LuaJIT state with an
 * allow-listed environment (host/sandbox_env.lua.h). The process boundary is the isolation:
 * a crash of the Lua VM, a memory bomb or an endless loop inside JIT-compiled code costs only
 * that sandbox's run. The parent talks to the child over a socketpair with length-prefixed
 * frames (host/sandbox_proto.h) and never blocks on it indefinitely.
 *
 * Limits, and who enforces them (docs/sandbox.md says why):
 * - CPU: the parent watches the child's CPU clock and a wall-clock deadline, and kills the
 *   child when either runs out (a pcall cannot catch SIGKILL; JIT-compiled loops die too).
 *   With jit = 0 the child runs interpreter-only with a count hook that stops the run itself.
 * - Memory: a counting allocator (a clean "memory limit of N MB exceeded"), RLIMIT_AS behind it.
 * - System: RLIMIT_NOFILE/NPROC/FSIZE/CORE, inherited descriptors closed, a seccomp allow-list.
 *
 * State: a sandbox keeps its Lua state (declared globals) from one run to the next, until a
 * run is killed or crashes; the next run then starts in a fresh process with a fresh state. */
#pragma once
#include <stddef.h>

typedef struct sdsim_sandbox sdsim_sandbox;

typedef struct sdsim_sandbox_limits {
    int cpu_ms;            /* CPU time one run may use (default 1000) */
    int wall_ms;           /* wall-clock time one run may take (default 5 * cpu_ms + 1000) */
    size_t memory_bytes;   /* the Lua heap cap (default 64 MB) */
    size_t output_bytes;   /* print output kept per run, the rest is cut (default 1 MB) */
    size_t source_bytes;   /* largest chunk accepted (default 4 MB) */
    int jit;               /* 1 (default): JIT on, the parent kills at the deadline;
                              0: interpreter only, a count hook stops the run (slower) */
    int seccomp;           /* 1 (default): system-call allow-list in the child */
    int lifetime_cpu_s;    /* RLIMIT_CPU backstop over the child's whole life (default 600) */
    const char *exec_path; /* NULL (default): the child is a plain fork of the host. Else an
                              sdsim binary the child execs as `PATH script --sandbox-child
                              SPEC` (sdsim_sandbox_child_entry): a fresh address space with
                              none of the host's secrets, and fork-safe in a threaded host */
    int sim_module;        /* 1: the child offers the `sim` module (host/lua_sim.h): the SDK,
                              the component types and the templates are read before the
                              lock-down; sim.load takes template names or design tables only */
} sdsim_sandbox_limits;

typedef enum sdsim_sandbox_status {
    SDSIM_SANDBOX_OK,
    SDSIM_SANDBOX_ERROR,         /* a Lua error: message, file and line say which */
    SDSIM_SANDBOX_KILLED_CPU,    /* the CPU or wall-clock limit cut the run off */
    SDSIM_SANDBOX_KILLED_MEMORY, /* the memory cap was hit (even if the script caught it) */
    SDSIM_SANDBOX_CRASHED,       /* the child died by `signal` (0: it broke the protocol) */
} sdsim_sandbox_status;

typedef struct sdsim_sandbox_result {
    sdsim_sandbox_status status;
    int signal;         /* SDSIM_SANDBOX_CRASHED: the signal that ended the child */
    int line;           /* 0 when unknown */
    char file[256];     /* the chunk name the run was given, or the file an error names */
    char message[1024]; /* one line, without the "file:line: " prefix */
    char values[1024];  /* the chunk's return values through tostring, tab-separated */
    char *output;       /* everything print wrote (NUL-terminated, may be NULL) */
    size_t output_len;
    int output_truncated; /* more than limits.output_bytes was printed */
    double cpu_ms;        /* CPU the child used for this run */
    double wall_ms;       /* from submit to result */
} sdsim_sandbox_result;

/* Fills in the defaults above. Always start from these: a zeroed struct would mean jit = 0
 * and seccomp = 0 (the numeric fields left at 0 do take their defaults). */
void sdsim_sandbox_limits_default(sdsim_sandbox_limits *lim);

/* Starts a sandbox process (lim NULL = defaults) and waits (at most 5 s) until it is ready.
 * NULL with a message in err on failure. */
sdsim_sandbox *sdsim_sandbox_start(const sdsim_sandbox_limits *lim, char *err, int errlen);
/* Kills the child (if any) and frees everything. */
void sdsim_sandbox_stop(sdsim_sandbox *s);

/* Blocking conveniences for the CLI and tests: run a chunk and wait for its result (at most
 * the wall-clock limit plus a short grace). `name` is what errors call the chunk
 * ("plugin.lua"). Return 0 when a result was produced (whatever its status), -1 when the
 * request could not be made (out->message says why). Free out with sdsim_sandbox_result_free. */
int sdsim_sandbox_run_string(sdsim_sandbox *s, const char *name, const char *src, size_t len,
                             sdsim_sandbox_result *out);
int sdsim_sandbox_run_file(sdsim_sandbox *s, const char *path, sdsim_sandbox_result *out);

/* The asynchronous interface (for a libuv loop): submit a run, then call
 * sdsim_sandbox_poll whenever sdsim_sandbox_fd is readable (or writable while
 * sdsim_sandbox_wants_write), and at the latest after sdsim_sandbox_timeout_ms. None of
 * these block for more than a few milliseconds. The descriptor changes when the child is
 * replaced (after a kill or crash): ask for it again after each result. */
int sdsim_sandbox_submit(sdsim_sandbox *s, const char *name, const char *src, size_t len);
/* 1: the run is over and out is filled in; 0: still running; -1: no run was submitted. */
int sdsim_sandbox_poll(sdsim_sandbox *s, sdsim_sandbox_result *out);
int sdsim_sandbox_fd(const sdsim_sandbox *s);
int sdsim_sandbox_wants_write(const sdsim_sandbox *s);
/* Milliseconds until sdsim_sandbox_poll must be called again; -1 when no run is active. */
int sdsim_sandbox_timeout_ms(const sdsim_sandbox *s);

/* Called with each piece of print output as it arrives (besides collecting it in the
 * result), e.g. to stream it to a terminal or a WebSocket. */
typedef void (*sdsim_sandbox_output_fn)(void *ud, const char *text, size_t len);
void sdsim_sandbox_set_output(sdsim_sandbox *s, sdsim_sandbox_output_fn fn, void *ud);

/* The exec'd child's entry point (see exec_path): serves the sandbox on descriptor 3 with
 * the limits in `spec`. Returns only on a malformed spec (exit code 2). */
int sdsim_sandbox_child_entry(const char *spec);

/* The child's process id (0 when none is running): for tests and diagnostics. */
int sdsim_sandbox_pid(const sdsim_sandbox *s);

/* The process lock-down every sandbox child gets, for other forked children that run
 * untrusted code too (lua_behavior.c's plugin runs). Call it in the child once everything it
 * needs has been read: afterwards it can read and write the descriptors it kept, allocate
 * memory, read clocks, handle signals and exit, and nothing else (no open, no fork, no
 * exec, no socket; any other system call kills it with SIGSYS). Under AddressSanitizer the
 * seccomp filter and RLIMIT_AS are left out (ASan reserves terabytes and makes odd calls). */
typedef struct sdsim_lockdown {
    const int *keep_fds; /* descriptors that stay open; 0-2 not kept are put on /dev/null,
                            every other descriptor is closed */
    int nkeep;
    int cpu_s; /* RLIMIT_CPU: SIGXCPU at cpu_s s of CPU, SIGKILL cpu_grace_s later
                  (0: left as it is) */
    int cpu_grace_s;
    size_t as_extra; /* RLIMIT_AS: the address space in use now plus this (0: no limit) */
    int file_output; /* 1: a kept descriptor may be a file the user asked for (stdout
                        redirected): RLIMIT_FSIZE is left as it is instead of 0 */
    int seccomp;     /* 1: the system-call allow-list (PR_SET_NO_NEW_PRIVS first) */
} sdsim_lockdown;

/* 0 on success; -1 when a step failed (the process must then not run the untrusted code). */
int sdsim_sandbox_lockdown(const sdsim_lockdown *ld);

void sdsim_sandbox_result_free(sdsim_sandbox_result *r);
const char *sdsim_sandbox_status_name(sdsim_sandbox_status st);
/* The one-line form for people: "file:line: message" or "file: message". */
void sdsim_sandbox_result_line(const sdsim_sandbox_result *r, char *buf, size_t len);

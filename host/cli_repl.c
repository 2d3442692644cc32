/* `sdsim repl [FILE.lua ...]`: a Lua prompt with the `sim` module (docs/scripting.md).
 *
 * On a terminal: line editing and history (libedit, ~/.sdsim_history). From a pipe: the same
 * session without prompts or editing, so tests and scripts can drive it. Either way a chunk
 * that is not complete yet ("<eof>" expected) continues on the next line (prompt ">>"),
 * `=expr` and bare expressions print their values (tables pretty-printed by sim.format), an
 * error is printed and the session goes on, and end of input (Ctrl-D) ends it. Exit code 0,
 * or 1 when input came from a pipe and some chunk failed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>
#include <lauxlib.h>
#include <lua.h>

#include "cli.h"
#include "lua_sim.h"
#include "lua_state.h"

#define PROMPT "sdsim> "
#define PROMPT_MORE ">> "
#define HISTORY_LINES 1000
#define PRINTER_KEY "sdsim.repl.printer"

typedef struct repl {
    lua_State *L;
    int interactive;
    int failures;
    char history[4096]; /* "" when there is no home directory */
} repl;

static void usage(FILE *out) {
    fputs("usage: sdsim repl [FILE.lua ...]\n"
          "  A Lua prompt with the sim module loaded (docs/scripting.md); FILEs run first.\n"
          "  =expr or a bare expression prints its value; Ctrl-D exits.\n"
          "  Reads a piped stdin as a session too (no prompts, no line editing).\n",
          out);
}

/* ------------------------------------------------------------------------------------- */
/* Ctrl-C while Lua code runs stops it (as lua.c does); at the prompt it ends the session. */

static lua_State *running;

static void stop_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void on_sigint(int sig) {
    signal(sig, SIG_DFL); /* a second Ctrl-C kills, e.g. inside a long simulation run */
    if (running) lua_sethook(running, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

/* ------------------------------------------------------------------------------------- */
/* Input */

/* One line without its newline (malloc'd), or NULL at end of input. */
static char *read_line(repl *r, const char *prompt) {
    if (r->interactive) return readline(prompt);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        return NULL;
    }
    if (n > 0 && line[n - 1] == '\n') line[n - 1] = '\0';
    return line;
}

static void remember(repl *r, const char *chunk) {
    if (!r->interactive || !chunk[0]) return;
    add_history(chunk);
    if (r->history[0]) write_history(r->history);
}

/* ------------------------------------------------------------------------------------- */
/* Compiling: an expression first (so that `1 + 1` prints 2), then a statement. */

/* 1 when the message says the chunk ended too early: more lines may complete it. */
static int incomplete(lua_State *L) {
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    const char *mark = "'<eof>'";
    size_t mlen = strlen(mark);
    return msg && len >= mlen && strcmp(msg + len - mlen, mark) == 0;
}

/* Pushes the compiled chunk (0), or the error message (LUA_ERRSYNTAX). The expression is an
 * argument rather than the returned call itself: a tail call would lose the line number that
 * error("...") adds to its message. */
static int compile(lua_State *L, const char *text) {
    const char *src = text[0] == '=' ? text + 1 : text;
    lua_pushfstring(L, "return (function(...) return ... end)(%s\n)", src);
    int rc = luaL_loadbuffer(L, lua_tostring(L, -1), lua_objlen(L, -1), "=stdin");
    lua_remove(L, -2);
    if (rc == 0) return rc;
    lua_pop(L, 1);
    if (text[0] != '=') return luaL_loadbuffer(L, text, strlen(text), "=stdin");
    /* The plain form for its message: "'<eof>' expected" asks for more lines. */
    lua_pushfstring(L, "return %s", src);
    rc = luaL_loadbuffer(L, lua_tostring(L, -1), lua_objlen(L, -1), "=stdin");
    lua_remove(L, -2);
    return rc;
}

/* Reads lines until they form a chunk; pushes the function (0), or the syntax error (1), or
 * nothing at end of input (-1). */
static int read_chunk(repl *r) {
    char *line = read_line(r, PROMPT);
    if (!line) return -1;
    size_t cap = strlen(line) + 1;
    char *text = line;
    for (;;) {
        int rc = compile(r->L, text);
        if (rc == 0 || !incomplete(r->L)) {
            remember(r, text);
            free(text);
            return rc == 0 ? 0 : 1;
        }
        lua_pop(r->L, 1);
        char *more = read_line(r, PROMPT_MORE);
        if (!more) { /* end of input inside a chunk: report what is missing */
            compile(r->L, text);
            free(text);
            return 1;
        }
        size_t need = strlen(text) + strlen(more) + 2;
        if (need > cap) {
            char *grown = realloc(text, need * 2);
            if (!grown) {
                free(more);
                free(text);
                lua_pushliteral(r->L, "out of memory reading the chunk");
                return 1;
            }
            text = grown;
            cap = need * 2;
        }
        strcat(text, "\n");
        strcat(text, more);
        free(more);
    }
}

/* ------------------------------------------------------------------------------------- */
/* Running and printing */

/* The message without the traceback sdsim_lua_pcall appends (errors stay readable; the
 * validation problems of sim.run, on several lines, stay whole). */
static void print_error(repl *r, const char *msg) {
    const char *tb = strstr(msg, "\nstack traceback:");
    fflush(stdout);
    fprintf(stderr, "%.*s\n", tb ? (int)(tb - msg) : (int)strlen(msg), msg);
    fflush(stderr);
    r->failures++;
}

/* The printer: sim.format when the sim module is there, tostring otherwise. */
static const char printer_src[] =
    "return function(...)\n"
    "  local sim, parts = rawget(_G, 'sim'), {}\n"
    "  local fmt = type(sim) == 'table' and type(sim.format) == 'function' and sim.format\n"
    "  for i = 1, select('#', ...) do\n"
    "    local v = select(i, ...)\n"
    "    parts[i] = fmt and fmt(v) or tostring(v)\n"
    "  end\n"
    "  print(table.concat(parts, '\\t'))\n"
    "end\n";

static int run_chunk(repl *r) {
    lua_State *L = r->L;
    int base = lua_gettop(L); /* the chunk */
    char err[8192];
    running = L;
    signal(SIGINT, on_sigint);
    int rc = sdsim_lua_pcall(L, 0, LUA_MULTRET, 0, err, sizeof err);
    signal(SIGINT, SIG_DFL);
    running = NULL;
    if (rc != 0) {
        print_error(r, err);
        return -1;
    }
    int n = lua_gettop(L) - base + 1;
    if (n > 0) {
        lua_getfield(L, LUA_REGISTRYINDEX, PRINTER_KEY);
        lua_insert(L, base);
        if (sdsim_lua_pcall(L, n, 0, 0, err, sizeof err) != 0) print_error(r, err);
    }
    fflush(stdout);
    return 0;
}

static int run_file(repl *r, const char *path) {
    char err[4096];
    if (sdsim_lua_load_file(r->L, path, 0, 0, err, sizeof err) != 0) {
        print_error(r, err);
        return -1;
    }
    return run_chunk(r);
}

/* ------------------------------------------------------------------------------------- */

static int open_repl(repl *r) {
    sdsim_lua_opts opts = {.mem_limit = 0, .jit = 1};
    r->L = sdsim_lua_new(&opts);
    if (!r->L) {
        fprintf(stderr, "sdsim repl: out of memory\n");
        return -1;
    }
    sdsim_lua_sim_install(r->L); /* says why on stderr when it cannot: plain Lua then */
    if (luaL_loadstring(r->L, printer_src) != 0 || lua_pcall(r->L, 0, 1, 0) != 0) {
        fprintf(stderr, "sdsim repl: %s\n", lua_tostring(r->L, -1));
        return -1;
    }
    lua_setfield(r->L, LUA_REGISTRYINDEX, PRINTER_KEY);
    const char *home = getenv("HOME");
    if (r->interactive && home && home[0]) {
        snprintf(r->history, sizeof r->history, "%s/.sdsim_history", home);
        rl_readline_name = "sdsim";
        stifle_history(HISTORY_LINES);
        read_history(r->history);
    }
    return 0;
}

int sdsim_cli_repl(int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return SDSIM_EXIT_OK;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "sdsim repl: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return SDSIM_EXIT_USAGE;
        }
    }
    repl r = {.interactive = isatty(0) && isatty(1)};
    if (open_repl(&r) != 0) {
        if (r.L) sdsim_lua_close(r.L);
        return SDSIM_EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < argc; i++)
        run_file(&r, argv[i]);
    if (r.interactive)
        printf("sdsim repl: Lua with the sim module (docs/scripting.md). =expr prints, "
               "Ctrl-D exits.\n");
    int rc;
    while ((rc = read_chunk(&r)) >= 0) {
        if (rc == 0) {
            run_chunk(&r);
        } else {
            print_error(&r, lua_tostring(r.L, -1));
            lua_pop(r.L, 1);
        }
        lua_settop(r.L, 0);
    }
    if (r.interactive) {
        putchar('\n');
        if (r.history[0]) history_truncate_file(r.history, HISTORY_LINES);
    }
    sdsim_lua_close(r.L);
    return !r.interactive && r.failures ? SDSIM_EXIT_FAILED : SDSIM_EXIT_OK;
}

/* `sdsim serve [--port N] [--host ADDR] [--data-dir DIR] [--static DIR] ...` */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "design_load.h"
#include "server.h"

static void usage(FILE *out) {
    fputs("usage: sdsim serve [options]\n"
          "  --port N             TCP port (default 8080)\n"
          "  --host ADDR          listen address (default 127.0.0.1)\n"
          "  --data-dir DIR       where the server keeps its data (default ./data)\n"
          "  --database URL       postgres://... (default: SQLite in the data directory)\n"
          "  --redis URL          redis://... for the bus (default: in this process)\n"
          "  --static DIR         the web app's files (default frontend/dist in the source tree)\n"
          "  --read-timeout S     seconds a client has to send a request (default 10)\n"
          "  --drain-timeout S    seconds a shutdown waits for requests in flight (default 10)\n"
          "  --max-body BYTES     largest request body (default 4194304)\n"
          "  --run-wall-limit S   wall-clock seconds an anonymous simulation may take (30)\n"
          "  --test-routes        also serve /api/debug/* (for the tests)\n"
          "SIGTERM or SIGINT stops it gracefully; docs/http-api.md lists the routes.\n",
          out);
}

static int parse(int argc, char **argv, sdsim_server_opts *o, char *static_buf, size_t cap) {
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        int rc = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(SDSIM_EXIT_OK);
        } else if (!strcmp(a, "--test-routes")) {
            o->test_routes = 1;
            continue;
        } else if (!strcmp(a, "--port")) {
            if (!(rc = sdsim_cli_number(a, v, 1, 65535, &x))) o->port = (int)x;
        } else if (!strcmp(a, "--host") || !strcmp(a, "--data-dir") || !strcmp(a, "--static")) {
            if (!v || !*v) {
                fprintf(stderr, "sdsim: %s needs a value\n", a);
                return -1;
            }
            if (a[2] == 'h')
                o->host = v;
            else if (a[2] == 'd')
                o->data_dir = v;
            else
                o->static_dir = v;
        } else if (!strcmp(a, "--database") || !strcmp(a, "--redis")) {
            if (!v || !*v) {
                fprintf(stderr, "sdsim: %s needs a value\n", a);
                return -1;
            }
            if (a[2] == 'd')
                o->database_url = v;
            else
                o->redis_url = v;
        } else if (!strcmp(a, "--read-timeout")) {
            if (!(rc = sdsim_cli_number(a, v, 1, 3600, &x))) o->read_timeout = x;
        } else if (!strcmp(a, "--drain-timeout")) {
            if (!(rc = sdsim_cli_number(a, v, 0, 3600, &x))) o->drain_timeout = x;
        } else if (!strcmp(a, "--max-body")) {
            if (!(rc = sdsim_cli_number(a, v, 1024, 1 << 30, &x))) o->max_body = (size_t)x;
        } else if (!strcmp(a, "--run-wall-limit")) {
            if (!(rc = sdsim_cli_number(a, v, 0.1, 86400, &x))) o->run_wall_limit = x;
        } else {
            fprintf(stderr, "sdsim: unknown option %s (see sdsim serve --help)\n", a);
            return -1;
        }
        if (rc) return -1;
        i++;
    }
    if (!o->static_dir) {
        snprintf(static_buf, cap, "%s/frontend/dist", sdsim_root());
        o->static_dir = static_buf;
    }
    return 0;
}

int sdsim_cli_serve(int argc, char **argv) {
    sdsim_server_opts o;
    char static_buf[4096];
    sdsim_server_opts_defaults(&o);
    if (parse(argc, argv, &o, static_buf, sizeof static_buf)) return SDSIM_EXIT_USAGE;
    sdsim_design_set_exec("/proc/self/exe"); /* checks fork+exec: the server has threads */
    return sdsim_server_run(&o) == 0 ? SDSIM_EXIT_OK : SDSIM_EXIT_FAILED;
}

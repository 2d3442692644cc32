/* sdsim: the command-line entry point. Each subcommand lives in its own cli_*.c. */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "api_jobs.h"
#include "design_load.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"run", sdsim_cli_run, "simulate a design and print its report"},
    {"analyze", sdsim_cli_analyze, "the instant analytic prediction of a design"},
    {"validate", sdsim_cli_validate, "list every problem of a design with its JSON path"},
    {"script", sdsim_cli_script, "run a Lua script (--sandbox: with a user's limits)"},
    {"repl", sdsim_cli_repl, "a Lua prompt with the sim module for what-if scripting"},
    {"serve", sdsim_cli_serve, "the HTTP and WebSocket server (docs/http-api.md)"},
    {"migrate", sdsim_cli_migrate, "bring the database schema up to date (docs/storage.md)"},
    {"admin", sdsim_cli_admin, "set an account's role (the first admin), list accounts"},
};

static void usage(FILE *out) {
    fputs("usage: sdsim COMMAND [arguments]   (sdsim COMMAND --help for more)\n\n", out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? SDSIM_EXIT_USAGE : SDSIM_EXIT_OK;
    }
    if (!strcmp(argv[1], "__design-child")) /* the server's isolated checks (design_load.h) */
        return sdsim_design_child_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "__run-child")) /* the server's runs with plugins (api_jobs.h) */
        return sdsim_api_run_child_main(argc - 2, argv + 2);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "sdsim: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return SDSIM_EXIT_USAGE;
}

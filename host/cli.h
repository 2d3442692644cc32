/* The command-line front end: `sdsim run | analyze | validate | script`. Each returns the process
 * exit code: 0 success, 1 an --assert or validation that did not hold, 2 a usage or input
 * error. */
#pragma once

#define SDSIM_EXIT_OK 0
#define SDSIM_EXIT_FAILED 1
#define SDSIM_EXIT_USAGE 2

int sdsim_cli_run(int argc, char **argv);
int sdsim_cli_analyze(int argc, char **argv);
int sdsim_cli_validate(int argc, char **argv);
int sdsim_cli_script(int argc, char **argv);
int sdsim_cli_repl(int argc, char **argv);
int sdsim_cli_serve(int argc, char **argv);
int sdsim_cli_migrate(int argc, char **argv);
int sdsim_cli_admin(int argc, char **argv);

/* Parses a finite number in [min, max] for option `name`; prints the problem and returns -1
 * otherwise. */
int sdsim_cli_number(const char *name, const char *text, double min, double max, double *out);

/* `sdsim validate FILE`: every problem of a design, one line each with its JSON path. */
#include <stdio.h>
#include "cli.h"
#include "design_load.h"

int sdsim_cli_validate(int argc, char **argv) {
    if (argc != 1 || argv[0][0] == '-') {
        fprintf(stderr, "usage: sdsim validate FILE\n");
        return SDSIM_EXIT_USAGE;
    }
    sdsim_problems problems = {0};
    sim_design *d = sdsim_load_design_file(argv[0], &problems);
    if (!d) {
        for (int i = 0; i < problems.n; i++)
            printf("%s: %s\n", problems.items[i].path, problems.items[i].reason);
        fprintf(stderr, "%s: %d problem%s\n", argv[0], problems.n, problems.n == 1 ? "" : "s");
        sdsim_problems_free(&problems);
        return SDSIM_EXIT_FAILED;
    }
    printf("ok: %s (%d components, %d edges, %d workloads, %d faults)\n", d->name, d->ncomponents,
           d->nedges, d->nworkloads, d->nfaults);
    sim_design_free(d);
    return SDSIM_EXIT_OK;
}

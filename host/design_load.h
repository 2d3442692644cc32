/* From a design document to the engine's sim_design.
 *
 * A design file is either JSON (a design document, docs/design-format.md) or a template:
 * a .lua file returning a Lua table of the same shape. The document is decoded, checked
 * against the component types declared in components/NAME.lua (every problem collected with
 * its JSON path), its defaults filled in, and only then converted for the engine. */
#pragma once
#include "model.h"

typedef struct sdsim_problem {
    char path[256];   /* JSONPath of the offending value, e.g. $.components[2].replicas */
    char reason[512]; /* one sentence a person can act on */
} sdsim_problem;

typedef struct sdsim_problems {
    sdsim_problem *items;
    int n, cap;
} sdsim_problems;

void sdsim_problems_add(sdsim_problems *p, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sdsim_problems_free(sdsim_problems *p);

/* Where the project's Lua lives (components/, templates/, scripts/): the SDSIM_ROOT
 * environment variable, else the source tree the binary was built from. */
const char *sdsim_root(void);

/* Loads, validates and converts a design file. Returns the design (free it with
 * sim_design_free), or NULL with at least one entry in problems. A path ending in .lua is a
 * template: it runs sandboxed in a forked child process (50 M instructions, 256 MB, 20 s),
 * so not even a crash of the Lua VM takes the caller down. Anything else is read as JSON
 * (at most 16 MB, UTF-8). Validation itself runs in a fresh Lua state per call
 * (scripts/sdk/design.lua and the component types in components/ under sdsim_root()). */
sim_design *sdsim_load_design_file(const char *path, sdsim_problems *problems);

/* The same from a JSON text already in memory (the server's request bodies). */
sim_design *sdsim_load_design_json(const char *json, size_t len, sdsim_problems *problems);

/* Live simulations (host/live_sim.c) on a real libuv loop: determinism against a batch run,
 * pacing, pause/step, faults and replicas seen in decoded frames, stop, control after the end,
 * freeing while running, and a design with a Lua behaviour. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "design_load.h"
#include "live_frame.h"
#include "live_sim.h"
#include "lua_behavior.h"
#include "report.h"
#include "run_design.h"
#include "sdsim.pb-c.h"
#include "test.h"

/* ---- fixtures -------------------------------------------------------------------------- */

/* A workload of `rps` into api (2 workers, exp 4 ms), which calls db (4 workers, exp 5 ms) on
 * every request over a call edge with no latency: edge 0. */
static sim_design *two_tier(double rps) {
    sim_design *d = sim_design_new("two_tier");
    sim_component api = sim_component_defaults("api");
    api.workers = 2;
    api.service = sim_dist_exp(0.004);
    api.cost_per_hour = 1;
    sim_component db = sim_component_defaults("db");
    db.workers = 4;
    db.service = sim_dist_exp(0.005);
    sim_design_add_component(d, &api);
    sim_design_add_component(d, &db);
    sim_edge e = sim_edge_defaults(0, 1);
    e.mode = SIM_EDGE_CALL;
    e.latency = 0;
    sim_design_add_edge(d, &e);
    sim_workload w = sim_workload_defaults(0);
    w.rps = rps;
    sim_design_add_workload(d, &w);
    char err[256];
    if (sim_design_check(d, err, sizeof err)) {
        fprintf(stderr, "  two_tier: %s\n", err);
        sim_design_free(d);
        return NULL;
    }
    return d;
}

typedef struct watch {
    int frames, ends;
    sdsim_live_state end_state;
    uint8_t *last;
    size_t last_len;
    int saw_down, saw_fault_notice, saw_scaled_notice, saw_replicas_notice;
    char replicas_text[192];
    uint32_t max_replicas_api;
    uint64_t last_seq;
    int seq_ok;
    int saw_scenario_notice, saw_recovered_notice;
    double first_fault_at; /* the simulated time of the first "fault" notice */
} watch;

static void on_frame(sdsim_live *l, const uint8_t *f, size_t len, void *ud) {
    watch *w = ud;
    w->frames++;
    free(w->last);
    w->last = malloc(len ? len : 1);
    memcpy(w->last, f, len);
    w->last_len = len;
    Sdsim__V1__Frame *fr = sdsim__v1__frame__unpack(NULL, len, f);
    if (!fr) return;
    if (w->frames > 1 && fr->seq <= w->last_seq) w->seq_ok = 0;
    w->last_seq = fr->seq;
    for (size_t k = 0; k < fr->n_components; k++) {
        if (fr->components[k]->down) w->saw_down = 1;
        if (fr->components[k]->index == 0 && fr->components[k]->replicas > w->max_replicas_api)
            w->max_replicas_api = fr->components[k]->replicas;
    }
    for (size_t k = 0; k < fr->n_notices; k++) {
        if (!strcmp(fr->notices[k]->kind, "fault") && !w->saw_fault_notice++)
            w->first_fault_at = fr->notices[k]->at;
        if (!strcmp(fr->notices[k]->kind, "scenario")) w->saw_scenario_notice = 1;
        if (!strcmp(fr->notices[k]->kind, "recovered")) w->saw_recovered_notice = 1;
        if (!strcmp(fr->notices[k]->kind, "scaled")) w->saw_scaled_notice = 1;
        if (!strcmp(fr->notices[k]->kind, "replicas")) {
            w->saw_replicas_notice = 1;
            snprintf(w->replicas_text, sizeof w->replicas_text, "%s", fr->notices[k]->text);
        }
    }
    sdsim__v1__frame__free_unpacked(fr, NULL);
}

static void on_end(sdsim_live *l, sdsim_live_state s, void *ud) {
    watch *w = ud;
    w->ends++;
    w->end_state = s;
}

static void tick(uv_timer_t *t) {
    uv_stop(t->loop);
}

/* Runs the loop for ms milliseconds of wall time. */
static void run_for(uv_loop_t *loop, int ms) {
    uv_timer_t t;
    uv_update_time(loop); /* the loop's cached time may be old: a start took a while */
    uv_timer_init(loop, &t);
    uv_timer_start(&t, tick, (uint64_t)ms, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

/* Runs the loop until the run has ended (or timeout_ms passed). */
static void run_until_end(uv_loop_t *loop, watch *w, int timeout_ms) {
    for (int waited = 0; !w->ends && waited < timeout_ms; waited += 10)
        run_for(loop, 10);
}

/* The simulated time of the latest frame the loop was given, -1 before any. */
static double frame_time(const watch *w) {
    Sdsim__V1__Frame *f = w->last ? sdsim__v1__frame__unpack(NULL, w->last_len, w->last) : NULL;
    double t = f ? f->sim_time : -1;
    if (f) sdsim__v1__frame__free_unpacked(f, NULL);
    return t;
}

/* Runs the loop until a frame at simulated time >= t arrived (or timeout_ms passed): on a
 * loaded machine a fixed wait may see too little happen. */
static void run_until_frame_at(uv_loop_t *loop, watch *w, double t, int timeout_ms) {
    for (int waited = 0; frame_time(w) < t && waited < timeout_ms; waited += 10)
        run_for(loop, 10);
}

static void close_loop(uv_loop_t *loop) {
    uv_run(loop, UV_RUN_DEFAULT); /* close callbacks of freed live simulations */
    CHECK(uv_loop_close(loop) == 0);
}

static sdsim_live_opts opts_of(double duration, double speed, uint64_t seed) {
    sdsim_live_opts o;
    memset(&o, 0, sizeof o);
    snprintf(o.id, sizeof o.id, "sim-test");
    o.duration = duration;
    o.seed = seed;
    o.speed = speed;
    return o;
}

static sdsim_live *start(uv_loop_t *loop, sim_design *d, const sdsim_live_opts *o, watch *w) {
    sdsim_live_callbacks cb = {on_frame, on_end, w};
    char err[512] = "";
    sdsim_live *l = sdsim_live_start(loop, d, o, &cb, err, sizeof err);
    if (!l) fprintf(stderr, "  start: %s\n", err);
    CHECK(l != NULL);
    return l;
}

/* The report without its "wall_seconds" line (the only figure that may differ). */
static void strip_wall(char *json) {
    char *p = strstr(json, "\"wall_seconds\"");
    if (!p) return;
    char *e = strpbrk(p, ",}\n");
    if (e && *e == ',') e++;
    if (e) memmove(p, e, strlen(e) + 1);
}

static Sdsim__V1__Frame *decode(const watch *w) {
    return w->last ? sdsim__v1__frame__unpack(NULL, w->last_len, w->last) : NULL;
}

/* ---- determinism ----------------------------------------------------------------------- */

/* At speed 0 a live run is a batch run in slices: its report equals, byte for byte but for
 * the wall-clock time, the report of sim_run_until over the same options and seed. Against
 * `sdsim run` (sdsim_run_design, 1 s windows) the counts are equal and the figures within
 * 1e-9 relative (time integrals split at other window edges round differently). */
static void live_equals_batch(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    watch w = {.seq_ok = 1};
    sdsim_live_opts o = opts_of(30, 0, 7);
    o.warmup = 2;
    sdsim_live *l = start(&loop, two_tier(300), &o, &w);
    if (!l) return;
    run_until_end(&loop, &w, 10000);
    CHECK(w.ends == 1);
    CHECK(w.end_state == SDSIM_LIVE_FINISHED);
    CHECK(w.seq_ok);
    size_t n = 0;
    char *live = sdsim_live_report_json(l, &n);
    CHECK(live != NULL && n > 100);

    sim_design *d = two_tier(300);
    sim_options so = sdsim_live_sim_options(30, 2, 7);
    char err[256];
    sim_run *r = sim_run_new(d, &so, err, sizeof err);
    CHECK(sim_run_until(r, 30) == 1);
    char *batch = NULL;
    size_t bn = 0;
    CHECK(sdsim_live_report_of(d, r, 2, 7, 0, &batch, &bn) == 0);
    const sim_results *res = sim_run_results(r);
    uint64_t completed = res->e2e.completed, events = res->events;
    double util = res->components[1].utilization;
    sim_run_free(r);

    sdsim_run_spec spec = {.duration = 30, .warmup = 2, .seed = 7, .replications = 1};
    sdsim_run_output out;
    CHECK(sdsim_run_design(d, &spec, &out, err, sizeof err) == 0);
    CHECK(out.reps.summary.e2e.completed == completed);
    CHECK(out.reps.summary.events == events);
    CHECK_REL(out.reps.summary.components[1].utilization, util, 1e-9);
    sdsim_run_output_free(&out);

    if (live && batch) {
        strip_wall(live);
        strip_wall(batch);
        CHECK(strcmp(live, batch) == 0);
        if (strcmp(live, batch))
            fprintf(stderr, "  live:\n%.600s\n  batch:\n%.600s\n", live, batch);
    }
    free(live);
    free(batch);
    sim_design_free(d);
    sdsim_live_status st;
    sdsim_live_status_get(l, &st);
    CHECK(st.state == SDSIM_LIVE_FINISHED);
    CHECK(st.sim_time == 30);
    CHECK(st.events == events);
    printf("  speed 0: %llu events in %.3f s wall (%.1f M events/s)\n",
           (unsigned long long)st.events, st.wall_seconds, st.events / st.wall_seconds / 1e6);
    sdsim_live_free(l);
    free(w.last);
    close_loop(&loop);
}

/* ---- pacing ---------------------------------------------------------------------------- */

/* Speed 10: after ~0.5 s of wall time the simulated time is 10 x the wall time of the same
 * status: never ahead of it by more than one 2 ms pacing tick (0.02 s simulated, +0.03 for the
 * two clock reads), and behind it by at most 1 s of simulated time (100 ms of wall: the
 * thread's start-up and scheduling on a loaded 2-core machine, under ASan). So about 5 s. */
static void speed_ten(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    watch w = {.seq_ok = 1};
    sdsim_live_opts o = opts_of(100, 10, 1);
    sdsim_live *l = start(&loop, two_tier(100), &o, &w);
    if (!l) return;
    run_for(&loop, 500);
    sdsim_live_status st;
    sdsim_live_status_get(l, &st);
    CHECK(st.state == SDSIM_LIVE_RUNNING);
    CHECK(st.sim_time <= 10 * st.wall_seconds + 0.05);
    CHECK_NEAR(st.sim_time, 10 * st.wall_seconds, 1.0);
    CHECK_NEAR(st.sim_time, 5, 1.0); /* the timer itself may fire late on a loaded machine */
    /* 20 frames a second by default: at most 11 in 0.5 s (the first at once); fewer reach the
     * loop when it is descheduled for more than 50 ms (newer frames replace older ones) */
    CHECK(w.frames >= 4 && w.frames <= 12);
    printf("  speed 10: %.3f s simulated in %.3f s wall, %d frames\n", st.sim_time, st.wall_seconds,
           w.frames);
    sdsim_live_stop(l);
    run_until_end(&loop, &w, 2000);
    CHECK(w.ends == 1 && w.end_state == SDSIM_LIVE_STOPPED);
    size_t n;
    char *rep = sdsim_live_report_json(l, &n);
    CHECK(rep != NULL && strstr(rep, "\"e2e\"") != NULL);
    /* a stopped run's report covers the simulated time reached */
    sdsim_live_status_get(l, &st);
    const char *dur = rep ? strstr(rep, "\"duration_s\": ") : NULL;
    CHECK(dur != NULL);
    if (dur) CHECK_NEAR(strtod(dur + 14, NULL), st.sim_time, 1e-6 * st.sim_time + 1e-9);
    CHECK(st.sim_time > 1 && st.sim_time < 100);
    free(rep);
    char err[256] = "";
    CHECK(sdsim_live_pause(l, err, sizeof err) == -1);
    CHECK(strstr(err, "stopped") != NULL);
    CHECK(sdsim_live_set_speed(l, 2, err, sizeof err) == -1);
    sdsim_live_free(l);
    free(w.last);
    close_loop(&loop);
}

/* ---- pause and step -------------------------------------------------------------------- */

static void pause_and_step(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    watch w = {.seq_ok = 1};
    sdsim_live_opts o = opts_of(100, 5, 3);
    sdsim_live *l = start(&loop, two_tier(100), &o, &w);
    if (!l) return;
    char err[256];
    run_for(&loop, 150);
    CHECK(sdsim_live_pause(l, err, sizeof err) == 0);
    sdsim_live_status a, b;
    sdsim_live_status_get(l, &a);
    run_for(&loop, 200);
    sdsim_live_status_get(l, &b);
    CHECK(a.state == SDSIM_LIVE_PAUSED && b.state == SDSIM_LIVE_PAUSED);
    CHECK(a.sim_time == b.sim_time); /* the clock stopped: exactly */
    CHECK(a.events == b.events);
    CHECK(a.sim_time > 0);
    CHECK(sdsim_live_step(l, 1.0, err, sizeof err) == 0);
    for (int k = 0; k < 100; k++) { /* a step runs as fast as it can */
        run_for(&loop, 10);
        sdsim_live_status_get(l, &b);
        if (b.state == SDSIM_LIVE_PAUSED) break;
    }
    CHECK(b.state == SDSIM_LIVE_PAUSED);
    CHECK_NEAR(b.sim_time - a.sim_time, 1.0, 1e-9);
    run_for(&loop, 100);
    sdsim_live_status st;
    sdsim_live_status_get(l, &st);
    CHECK(st.sim_time == b.sim_time);
    CHECK(sdsim_live_step(l, -1, err, sizeof err) == -1);
    CHECK(sdsim_live_set_speed(l, -2, err, sizeof err) == -1);
    CHECK(sdsim_live_resume(l, err, sizeof err) == 0);
    run_for(&loop, 100);
    sdsim_live_status_get(l, &st);
    CHECK(st.state == SDSIM_LIVE_RUNNING && st.sim_time > b.sim_time);
    sdsim_live_free(l); /* while running: no on_end */
    free(w.last);
    close_loop(&loop);
    CHECK(w.ends == 0);
}

/* ---- faults and replicas --------------------------------------------------------------- */

/* 100 rps at speed 20: db crashes as a whole at ~2 s; frames show it down, errors at api and
 * the failed calls on edge 0; end-to-end failures are counted. api then gets 4 replicas. */
static void crash_and_scale(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    watch w = {.seq_ok = 1};
    sdsim_live_opts o = opts_of(60, 20, 5);
    sdsim_live *l = start(&loop, two_tier(100), &o, &w);
    if (!l) return;
    char err[256] = "";
    run_until_frame_at(&loop, &w, 1.0, 5000);
    CHECK(!w.saw_down);
    sdsim_live_status st;
    sdsim_live_status_get(l, &st);
    sim_fault f = sim_fault_defaults(SIM_FAULT_CRASH);
    f.target = 1;
    f.replica = -1;
    f.duration = 0;
    CHECK(sdsim_live_inject(l, &f, err, sizeof err) == 0);
    sim_fault bad = sim_fault_defaults(SIM_FAULT_PARTITION);
    bad.target = 9; /* no such edge */
    CHECK(sdsim_live_inject(l, &bad, err, sizeof err) == -1);
    CHECK(strstr(err, "invalid") != NULL);
    run_until_frame_at(&loop, &w, st.sim_time + 2.0, 5000); /* 8 windows after the crash */
    CHECK(w.saw_down);
    CHECK(w.saw_fault_notice);
    Sdsim__V1__Frame *fr = decode(&w);
    CHECK(fr != NULL);
    if (fr) {
        CHECK(fr->n_components == 2 && fr->n_edges == 1);
        CHECK(fr->components[1]->down);
        CHECK(!fr->components[0]->down);
        /* every request now fails at api (its call fails): ~100 errors/s */
        CHECK(fr->components[0]->error_rate > 50);
        CHECK(fr->components[0]->errors > 0);
        CHECK(fr->edges[0]->error_rate > 50);
        CHECK(fr->totals->failed > 0);
        CHECK(fr->totals->error_rate > 0.9);
        CHECK(strcmp(fr->simulation_id, "sim-test") == 0);
        sdsim__v1__frame__free_unpacked(fr, NULL);
    }
    CHECK(sdsim_live_set_replicas(l, 0, 4, err, sizeof err) == 0);
    CHECK(sdsim_live_set_replicas(l, 7, 4, err, sizeof err) == -1);
    for (int waited = 0; w.max_replicas_api != 4 && waited < 3000; waited += 10)
        run_for(&loop, 10);
    CHECK(w.max_replicas_api == 4);
    CHECK(w.saw_scaled_notice);
    CHECK(!w.saw_replicas_notice); /* the scaling was announced once, as "scaled" */
    f.target = 0;
    f.replica = 3;
    CHECK(sdsim_live_inject(l, &f, err, sizeof err) == 0);
    for (int waited = 0; !w.saw_replicas_notice && waited < 3000; waited += 10)
        run_for(&loop, 10);
    CHECK(strcmp(w.replicas_text, "api: 3 replicas up (was 4)") == 0);
    sdsim_live_stop(l);
    run_until_end(&loop, &w, 2000);
    CHECK(w.ends == 1 && w.end_state == SDSIM_LIVE_STOPPED);
    size_t n;
    char *rep = sdsim_live_report_json(l, &n);
    CHECK(rep != NULL);
    free(rep);
    sdsim_live_free(l);
    free(w.last);
    close_loop(&loop);
}

/* ---- scheduled faults (a scenario applied mid-run) -------------------------------------- */

/* Runs the loop until the run is paused again after a step (or timeout_ms passed). */
static void step_and_wait(uv_loop_t *loop, sdsim_live *l, watch *w, double seconds) {
    char err[256] = "";
    sdsim_live_status st;
    sdsim_live_status_get(l, &st);
    double to = st.sim_time + seconds;
    CHECK(sdsim_live_step(l, seconds, err, sizeof err) == 0);
    for (int waited = 0; waited < 5000; waited += 10) {
        run_for(loop, 10);
        sdsim_live_status_get(l, &st);
        if (st.state == SDSIM_LIVE_PAUSED && st.sim_time >= to - 1e-9 && frame_time(w) >= to - 1e-9)
            break;
    }
}

/* Paused at 1 s, db's crash is scheduled at +2 s (3 s) for 1 s: stepping to 2.5 s nothing is
 * down and the fault still waits; stepping past 3 s the notice says it started at exactly 3 s
 * (the slices end at the fault's time), db is down and api fails; past 4 s it is over. A
 * fault naming an edge the design lacks is refused and nothing is scheduled. */
static void scheduled_faults(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    watch w = {.seq_ok = 1};
    sdsim_live_opts o = opts_of(30, 1, 7);
    o.start_paused = 1;
    sdsim_live *l = start(&loop, two_tier(100), &o, &w);
    if (!l) return;
    char err[256] = "";
    step_and_wait(&loop, l, &w, 1.0);
    sim_fault bad = sim_fault_defaults(SIM_FAULT_PACKET_LOSS);
    bad.target = 9;
    CHECK(sdsim_live_schedule(l, &bad, 1, "bad", NULL, err, sizeof err) == -1);
    CHECK(strstr(err, "no such target") != NULL);
    CHECK(sdsim_live_pending_faults(l) == 0);
    sim_fault f = sim_fault_defaults(SIM_FAULT_CRASH);
    f.target = 1;
    f.replica = -1;
    f.at = 2.0; /* from now */
    f.duration = 1.0;
    double from = -1;
    CHECK(sdsim_live_schedule(l, &f, 1, "scenario test: crash db at +2 s", &from, err,
                              sizeof err) == 0);
    CHECK_NEAR(from, 1.0, 1e-9); /* the step ended exactly at 1 s */
    CHECK(sdsim_live_pending_faults(l) == 1);
    step_and_wait(&loop, l, &w, 1.5);
    CHECK(w.saw_scenario_notice);
    CHECK(!w.saw_fault_notice && !w.saw_down);
    CHECK(sdsim_live_pending_faults(l) == 1);
    step_and_wait(&loop, l, &w, 1.0); /* to 3.5 s */
    CHECK(sdsim_live_pending_faults(l) == 0);
    CHECK(w.saw_fault_notice);
    CHECK_NEAR(w.first_fault_at, 3.0, 1e-12); /* exact: no slice ran past it */
    Sdsim__V1__Frame *fr = decode(&w);
    CHECK(fr != NULL);
    if (fr) {
        CHECK(fr->components[1]->down);
        CHECK(fr->components[0]->errors > 0);
        sdsim__v1__frame__free_unpacked(fr, NULL);
    }
    step_and_wait(&loop, l, &w, 1.0); /* to 4.5 s: the crash lasted 1 s */
    CHECK(w.saw_recovered_notice);
    fr = decode(&w);
    if (fr) {
        CHECK(!fr->components[1]->down);
        sdsim__v1__frame__free_unpacked(fr, NULL);
    }
    /* a fault due after the end never starts, and does not keep the run from finishing */
    f.at = 100;
    CHECK(sdsim_live_schedule(l, &f, 1, NULL, NULL, err, sizeof err) == 0);
    CHECK(sdsim_live_set_speed(l, 0, err, sizeof err) == 0);
    CHECK(sdsim_live_resume(l, err, sizeof err) == 0);
    run_until_end(&loop, &w, 5000);
    CHECK(w.ends == 1 && w.end_state == SDSIM_LIVE_FINISHED);
    sdsim_live_free(l);
    free(w.last);
    close_loop(&loop);
}

/* ---- frames against the engine --------------------------------------------------------- */

/* A frame built from a batch run says what the engine's window stats say: arrival rate x
 * window = the window's arrivals, per component; with a call edge of no latency the edge's
 * rate equals db's arrival rate (every call arrives in the window it was sent); the sum of
 * the rates of components fed only by the workload and the edge equals e2e arrivals + edge
 * rate. Hops are at most max_hops, on edge 0, departed before sim_time. */
static void frame_matches_engine(void) {
    sim_design *d = two_tier(400);
    sim_options so = sdsim_live_sim_options(20, 0, 11);
    char err[256];
    sim_run *r = sim_run_new(d, &so, err, sizeof err);
    sdsim_frame_builder *b = sdsim_frame_builder_new(d, 50);
    CHECK(sdsim_frame_attach(b, r) == 0);
    sim_run_until(r, 10.1);
    sdsim_notice nt = {.at = 1, .kind = "speed", .text = "speed 2x", .component = -1};
    sdsim_frame_meta m = {
        .id = "x", .seq = 3, .state = 1, .speed = 2, .duration = 20, .notices = &nt, .nnotices = 1};
    size_t len = 0;
    const uint8_t *bytes = sdsim_frame_build(b, r, &m, &len);
    CHECK(bytes != NULL && len > 0);
    Sdsim__V1__Frame *f = bytes ? sdsim__v1__frame__unpack(NULL, len, bytes) : NULL;
    CHECK(f != NULL);
    if (f) {
        int wi = sim_run_windows(r) - 1;
        CHECK(wi == 39); /* windows of 0.25 s closed by 10.1 s */
        CHECK_NEAR(f->window, 0.25, 1e-12);
        CHECK(f->seq == 3 && f->state == SDSIM__V1__SIM_STATE__SIM_STATE_RUNNING);
        CHECK_NEAR(f->sim_time, 10.1, 1e-12);
        CHECK(f->n_notices == 1 && !strcmp(f->notices[0]->text, "speed 2x"));
        double sum = 0;
        for (int c = 0; c < 2; c++) {
            const sim_window_stat *ws = sim_run_window(r, wi, c);
            CHECK_NEAR(f->components[c]->arrival_rate * 0.25, ws->arrivals, 1e-9);
            CHECK_NEAR(f->components[c]->utilization, ws->utilization, 1e-6);
            sum += f->components[c]->arrival_rate;
        }
        const sim_window_stat *e2e = sim_run_window(r, wi, -1);
        CHECK_NEAR(f->totals->arrival_rate * 0.25, e2e->arrivals, 1e-9);
        CHECK_NEAR(f->edges[0]->rate, f->components[1]->arrival_rate, 1e-9);
        CHECK_NEAR(sum, f->totals->arrival_rate + f->edges[0]->rate, 1e-9);
        CHECK(f->totals->arrival_rate > 200); /* 400 rps: 100 +- 5 sigma per window */
        sim_totals t;
        sim_run_totals(r, -1, &t);
        CHECK(f->totals->completed == t.completions);
        CHECK(f->n_hops > 0 && f->n_hops <= 50);
        for (size_t k = 0; k < f->n_hops; k++)
            CHECK(f->hops[k]->edge == 0 && f->hops[k]->at >= 0 && f->hops[k]->at < 10.1f);
        CHECK(f->totals->bottleneck == 0 || f->totals->bottleneck == 1);
        CHECK_NEAR(f->totals->cost_month, 730, 1e-9); /* api: 1 replica at 1/h */
        sdsim__v1__frame__free_unpacked(f, NULL);
    }
    /* the next frame: sampling adapted to ~50 hops per frame of 0.25 s (~100 crossings) */
    sim_run_until(r, 10.35);
    bytes = sdsim_frame_build(b, r, &m, &len);
    f = bytes ? sdsim__v1__frame__unpack(NULL, len, bytes) : NULL;
    CHECK(f != NULL);
    if (f) {
        CHECK(f->n_hops > 0 && f->n_hops <= 50);
        sdsim__v1__frame__free_unpacked(f, NULL);
    }
    sdsim_frame_builder_free(b);
    sim_run_free(r);
    sim_design_free(d);
}

/* ---- freeing and refusals -------------------------------------------------------------- */

static void free_while_running(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    watch w = {.seq_ok = 1}, wb = {.seq_ok = 1};
    sdsim_live_opts o = opts_of(1e6, 0, 1); /* would run for minutes */
    sdsim_live *a = start(&loop, two_tier(1000), &o, &w);
    o.start_paused = 1;
    sdsim_live *b = start(&loop, two_tier(1000), &o, &wb);
    for (int waited = 0; (!w.frames || !wb.frames) && waited < 3000; waited += 10)
        run_for(&loop, 10); /* both have sent their first frame */
    run_for(&loop, 50);
    if (a) {
        sdsim_live_status st;
        sdsim_live_status_get(a, &st);
        CHECK(st.events > 0);
    }
    if (b) {
        sdsim_live_status st;
        sdsim_live_status_get(b, &st);
        CHECK(st.state == SDSIM_LIVE_PAUSED && st.sim_time == 0);
        size_t n;
        CHECK(sdsim_live_last_frame(b, &n) != NULL && n > 0);
        CHECK(sdsim_live_report_json(b, &n) == NULL);
    }
    double t0 = (double)clock() / CLOCKS_PER_SEC;
    sdsim_live_free(a);
    sdsim_live_free(b);
    printf("  free while running: %.1f ms\n", ((double)clock() / CLOCKS_PER_SEC - t0) * 1e3);
    close_loop(&loop);
    CHECK(w.ends == 0 && wb.ends == 0);
    free(w.last);
    free(wb.last);

    /* refused: bad options leave the design with the caller */
    uv_loop_init(&loop);
    sim_design *d = two_tier(10);
    o = opts_of(-1, 1, 1);
    char err[256] = "";
    sdsim_live_callbacks cb = {on_frame, on_end, &w};
    CHECK(sdsim_live_start(&loop, d, &o, &cb, err, sizeof err) == NULL);
    CHECK(strstr(err, "duration") != NULL);
    o = opts_of(10, 1, 1);
    o.max_hops = 1000000;
    CHECK(sdsim_live_start(&loop, d, &o, &cb, err, sizeof err) == NULL);
    CHECK(strstr(err, "max_hops") != NULL);
    o.max_hops = 0;
    o.frame_interval = 0.001;
    CHECK(sdsim_live_start(&loop, d, &o, &cb, err, sizeof err) == NULL);
    CHECK(strstr(err, "frame_interval") != NULL);
    sim_design_free(d);
    close_loop(&loop);
}

/* ---- Lua behaviours -------------------------------------------------------------------- */

/* A token bucket (a Lua behaviour) admitting 500 of 1000 rps: the live run at speed 0
 * finishes with about half the requests refused (binomial noise over 5,000: +- 0.03). */
static void lua_behaviour(void) {
    const char *json =
        "{\"version\":1,\"components\":["
        "{\"id\":\"limiter\",\"type\":\"token_bucket\",\"params\":{\"rate_rps\":500,"
        "\"burst\":20}},"
        "{\"id\":\"api\",\"type\":\"service\",\"replicas\":1,\"params\":{\"workers\":0,"
        "\"service_time\":{\"dist\":\"const\",\"mean_ms\":2}}}],"
        "\"edges\":[{\"from\":\"limiter\",\"to\":\"api\",\"mode\":\"forward\"}],"
        "\"workload\":[{\"to\":\"limiter\",\"rps\":1000}]}";
    sdsim_problems p = {0};
    sim_design *d = sdsim_load_design_json(json, strlen(json), &p);
    CHECK(d != NULL);
    sdsim_problems_free(&p);
    if (!d) return;
    CHECK(sdsim_design_has_scripts(d));
    uv_loop_t loop;
    uv_loop_init(&loop);
    watch w = {.seq_ok = 1};
    sdsim_live_opts o = opts_of(5, 0, 2);
    sdsim_live *l = start(&loop, d, &o, &w);
    if (!l) {
        sim_design_free(d);
        close_loop(&loop);
        return;
    }
    run_until_end(&loop, &w, 10000);
    CHECK(w.ends == 1 && w.end_state == SDSIM_LIVE_FINISHED);
    Sdsim__V1__Frame *fr = decode(&w);
    CHECK(fr != NULL);
    if (fr) {
        CHECK(fr->state == SDSIM__V1__SIM_STATE__SIM_STATE_FINISHED);
        double ended = (double)fr->totals->completed + fr->totals->failed;
        CHECK(ended > 4000);
        CHECK_NEAR(fr->totals->failed / ended, 0.5, 0.03);
        sdsim__v1__frame__free_unpacked(fr, NULL);
    }
    size_t n;
    char *rep = sdsim_live_report_json(l, &n);
    CHECK(rep != NULL && strstr(rep, "limiter") != NULL);
    free(rep);
    sdsim_live_free(l);
    free(w.last);
    close_loop(&loop);
}

/* ---- frame cost (printed for docs/live.md, not asserted) --------------------------------- */

/* 100 chains of 10 services joined by forward edges, 1,000 rps into each chain: the big1000
 * engine benchmark's shape. */
static sim_design *big1000(void) {
    sim_design *d = sim_design_new("big1000");
    char id[32];
    for (int ch = 0; ch < 100; ch++)
        for (int k = 0; k < 10; k++) {
            snprintf(id, sizeof id, "s%d_%d", ch, k);
            sim_component c = sim_component_defaults(id);
            c.workers = 2;
            c.service = sim_dist_exp(0.001);
            int i = sim_design_add_component(d, &c);
            if (k > 0) {
                sim_edge e = sim_edge_defaults(i - 1, i);
                e.mode = SIM_EDGE_FORWARD;
                e.latency = 0;
                sim_design_add_edge(d, &e);
            } else {
                sim_workload w = sim_workload_defaults(i);
                w.rps = 1000;
                sim_design_add_workload(d, &w);
            }
        }
    char err[256];
    if (sim_design_check(d, err, sizeof err)) {
        sim_design_free(d);
        return NULL;
    }
    return d;
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Builds 100 frames of a run at time t (the run advancing 1 ms between them) and prints the
 * encoded size and the CPU time of one build, net of the run's own share. */
static void frame_cost(const char *name, sim_design *d, double t) {
    sim_options so = sdsim_live_sim_options(t + 10, 0, 1);
    char err[256];
    sim_run *r = sim_run_new(d, &so, err, sizeof err), *bare = sim_run_new(d, &so, err, sizeof err);
    CHECK(r != NULL && bare != NULL);
    if (!r || !bare) return;
    sdsim_frame_builder *b = sdsim_frame_builder_new(d, 0);
    sdsim_frame_attach(b, r);
    sim_run_until(r, t);
    sim_run_until(bare, t);
    sdsim_frame_meta m = {.id = "0123456789abcdef", .state = 1, .speed = 1, .duration = t + 10};
    size_t len = 0;
    const uint8_t *bytes = NULL;
    double c0 = cpu_now();
    for (int k = 1; k <= 100; k++) {
        sim_run_until(r, t + k * 0.001);
        bytes = sdsim_frame_build(b, r, &m, &len);
    }
    double c1 = cpu_now();
    for (int k = 1; k <= 100; k++)
        sim_run_until(bare, t + k * 0.001);
    double c2 = cpu_now();
    Sdsim__V1__Frame *f = bytes ? sdsim__v1__frame__unpack(NULL, len, bytes) : NULL;
    CHECK(f != NULL && (int)f->n_components == d->ncomponents && (int)f->n_edges == d->nedges);
    if (f) sdsim__v1__frame__free_unpacked(f, NULL);
    printf("  frame of %s (%d components, %d edges): %zu bytes, %.3f ms of CPU to build\n", name,
           d->ncomponents, d->nedges, len, ((c1 - c0) - (c2 - c1)) / 100 * 1e3);
    sdsim_frame_builder_free(b);
    sim_run_free(r);
    sim_run_free(bare);
}

static void frame_costs(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/templates/ecommerce.lua", sdsim_root());
    sdsim_problems p = {0};
    sim_design *e = sdsim_load_design_file(path, &p);
    sdsim_problems_free(&p);
    CHECK(e != NULL);
    if (e) {
        sdsim_behavior_host *h = NULL;
        char err[512];
        if (sdsim_design_has_scripts(e)) h = sdsim_behavior_attach(e, NULL, err, sizeof err);
        frame_cost("the e-commerce template", e, 2);
        sdsim_behavior_detach(e, h);
        sim_design_free(e);
    }
    sim_design *big = big1000();
    CHECK(big != NULL);
    if (big) frame_cost("big1000", big, 1);
    sim_design_free(big);
}

TEST_MAIN(TEST(live_equals_batch), TEST(speed_ten), TEST(pause_and_step), TEST(crash_and_scale),
          TEST(scheduled_faults), TEST(frame_matches_engine), TEST(free_while_running),
          TEST(lua_behaviour), TEST(frame_costs))

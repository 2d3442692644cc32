/* Live simulations (host/live_sim.h): one thread per run, paced against the wall clock.
 *
 * The thread holds the live simulation's mutex while it works (events, frames) and lets go of
 * it between slices of events, each sized to take about SLICE_TARGET of CPU; a control call
 * announces itself (waiters), takes the mutex as soon as the slice in progress ends, acts on
 * the run directly and wakes the thread. Pacing: with speed s > 0 the simulated time due is
 * anchor_sim + s * (wall - anchor_wall); the anchor moves on every change of speed, pause,
 * resume or step, and when the run falls more than a wall second behind (a design too heavy
 * for its speed runs as fast as it can, without a sprint afterwards).
 *
 * Frames: the thread encodes one every frame_interval (and on every change of state) and
 * copies it into `pending`; a uv_async_t tells the loop, which swaps `pending` with `shown`
 * and calls on_frame: a frame not yet shown is replaced by a newer one, never queued. The last
 * frame and the run's end travel together, so on_end always follows the last on_frame.
 *
 * Memory: the run (and its Lua behaviours) is freed by the thread as soon as it ends, after
 * the report has been written; the design, the last frame and the report stay until
 * sdsim_live_free, which closes the async handle and frees everything in its close callback
 * (the loop must run once more). */
#include "live_sim.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "live_frame.h"
#include "lua_behavior.h"

#define SLICE_TARGET 0.0005 /* wall seconds of events per slice */
#define PACE_TICK 0.002     /* wall seconds between two pacing checks while ahead */
#define MAX_LAG 1.0         /* wall seconds the pacing may fall behind before re-anchoring */
#define MAX_SPEED 1e9
#define DEFAULT_FRAME_INTERVAL 0.05
#define MIN_FRAME_INTERVAL 0.01
#define MAX_HOPS 10000
#define IDLE_FRAME_INTERVAL 1.0 /* paused: a frame a second (and one on every change) */

typedef struct timed_notice {
    sdsim_notice n;
} timed_notice;

struct sdsim_live {
    uv_loop_t *loop;
    uv_async_t async;
    uv_thread_t thread;
    int thread_started, joined;
    uv_mutex_t mu;
    uv_cond_t wake;
    atomic_int waiters; /* control calls waiting for the mutex */

    sim_design *design;
    int own_design; /* 0 until the start succeeded: a refused start leaves it to the caller */
    sdsim_behavior_host *scripts;
    sim_run *run; /* NULL once the thread has ended */
    sdsim_frame_builder *frames;
    sdsim_live_opts opts;
    sdsim_live_callbacks cb;

    /* shared, under mu */
    sdsim_live_state state; /* RUNNING or PAUSED until the end */
    int stop_req, freeing, ended;
    int finishing; /* the thread writes the report: control calls are refused */
    double speed;
    double step_to; /* < 0: no step in progress */
    double anchor_wall, anchor_sim;
    double sim_time, wall_start, wall_end;
    uint64_t events;
    char error[256];
    uint32_t seq;
    int frame_now; /* a state change wants a frame at once */
    sdsim_notice notices[SDSIM_NOTICE_MAX];
    int nnotices;
    int notices_pending;    /* the first notices, in the frame the loop has not taken yet: a
                               newer frame carries them again, so that none is lost when it
                               replaces that frame */
    timed_notice *timeline; /* notices due at a simulated time (fault starts and ends) */
    int ntimeline, cap_timeline;
    sim_fault *pending_faults; /* scheduled faults by time (at = absolute simulated time) */
    int npending, cap_pending;
    uint8_t *pending;
    size_t pending_len, pending_cap;
    int has_pending;
    char *report;
    size_t report_len;

    /* loop thread only */
    char *source; /* the design's text, for scenarios applied later */
    size_t source_len;
    char **scenarios; /* summaries of the scenarios applied */
    int nscenarios;
    uint8_t *shown;
    size_t shown_len, shown_cap;
    int have_shown, end_called;
};

static double wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void say(char *err, int errlen, const char *msg) {
    if (err && errlen > 0) snprintf(err, (size_t)errlen, "%s", msg);
}

/* ------------------------------------------------------------------------------------- */
/* Notices (under mu) */

static void notice(sdsim_live *l, double at, const char *kind, int comp, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void notice(sdsim_live *l, double at, const char *kind, int comp, const char *fmt, ...) {
    if (l->nnotices == SDSIM_NOTICE_MAX) { /* keep the latest */
        memmove(l->notices, l->notices + 1, (SDSIM_NOTICE_MAX - 1) * sizeof *l->notices);
        l->nnotices--;
        if (l->notices_pending > 0) l->notices_pending--;
    }
    sdsim_notice *n = &l->notices[l->nnotices++];
    n->at = at;
    n->component = comp;
    snprintf(n->kind, sizeof n->kind, "%s", kind);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->text, sizeof n->text, fmt, ap);
    va_end(ap);
}

static const char *target_name(const sim_design *d, const sim_fault *f, char *buf, size_t cap) {
    if (f->kind == SIM_FAULT_ZONE) {
        snprintf(buf, cap, "zone %s", f->zone);
    } else if (f->kind == SIM_FAULT_PARTITION || f->kind == SIM_FAULT_PACKET_LOSS) {
        const sim_edge *e = &d->edges[f->target];
        snprintf(buf, cap, "edge %s -> %s", d->components[e->from].id, d->components[e->to].id);
    } else if (f->kind == SIM_FAULT_CRASH && f->replica >= 0) {
        snprintf(buf, cap, "%s replica %d", d->components[f->target].id, f->replica);
    } else {
        snprintf(buf, cap, "%s", d->components[f->target].id);
    }
    return buf;
}

static int fault_component(const sim_fault *f) {
    return f->kind == SIM_FAULT_ZONE || f->kind == SIM_FAULT_PARTITION ||
                   f->kind == SIM_FAULT_PACKET_LOSS
               ? -1
               : f->target;
}

static int timeline_add(sdsim_live *l, double at, const char *kind, int comp, const char *text) {
    if (l->ntimeline == l->cap_timeline) {
        int cap = l->cap_timeline ? 2 * l->cap_timeline : 8;
        timed_notice *p = realloc(l->timeline, (size_t)cap * sizeof *p);
        if (!p) return -1;
        l->timeline = p;
        l->cap_timeline = cap;
    }
    sdsim_notice *n = &l->timeline[l->ntimeline++].n;
    n->at = at;
    n->component = comp;
    snprintf(n->kind, sizeof n->kind, "%s", kind);
    snprintf(n->text, sizeof n->text, "%s", text);
    return 0;
}

/* A fault's start (unless injected now: then it is a notice at once) and end as notices. */
static void fault_notices(sdsim_live *l, const sim_fault *f, double start, int now) {
    char who[160], text[192];
    target_name(l->design, f, who, sizeof who);
    const char *kind = sim_fault_kind_name(f->kind);
    if (f->duration > 0)
        snprintf(text, sizeof text, "%s fault on %s for %g s", kind, who, f->duration);
    else
        snprintf(text, sizeof text, "%s fault on %s", kind, who);
    if (now)
        notice(l, start, "fault", fault_component(f), "%s", text);
    else
        timeline_add(l, start, "fault", fault_component(f), text);
    if (f->duration > 0) {
        snprintf(text, sizeof text, "%s fault on %s is over", kind, who);
        timeline_add(l, start + f->duration, "recovered", fault_component(f), text);
    }
}

/* Timeline notices whose time has come move to the frame's notices. */
static void timeline_due(sdsim_live *l, double now) {
    int kept = 0;
    for (int k = 0; k < l->ntimeline; k++) {
        if (l->timeline[k].n.at <= now) {
            const sdsim_notice *n = &l->timeline[k].n;
            notice(l, n->at, n->kind, n->component, "%s", n->text);
        } else {
            l->timeline[kept++] = l->timeline[k];
        }
    }
    l->ntimeline = kept;
}

/* ------------------------------------------------------------------------------------- */
/* Scheduled faults (under mu): kept sorted by time; the thread ends its slices at the next
 * one's time and injects those due. */

static double next_pending(const sdsim_live *l) {
    return l->npending ? l->pending_faults[0].at : INFINITY;
}

static void apply_pending(sdsim_live *l) {
    if (!l->run) return;
    double now = sim_run_now(l->run);
    int k = 0;
    for (; k < l->npending && l->pending_faults[k].at <= now; k++) {
        const sim_fault *f = &l->pending_faults[k];
        if (sim_run_inject(l->run, f) == 0) {
            fault_notices(l, f, now, 1);
        } else {
            const char *why = sim_run_error(l->run);
            notice(l, now, "refused", fault_component(f), "a scheduled %s fault was refused: %s",
                   sim_fault_kind_name(f->kind), why ? why : "invalid");
        }
        l->frame_now = 1;
    }
    if (k == 0) return;
    memmove(l->pending_faults, l->pending_faults + k,
            (size_t)(l->npending - k) * sizeof *l->pending_faults);
    l->npending -= k;
}

/* ------------------------------------------------------------------------------------- */
/* The thread */

static void anchor(sdsim_live *l) {
    l->anchor_wall = wall_now();
    l->anchor_sim = sim_run_now(l->run);
}

/* Encodes a frame and hands it to the loop (under mu). */
static void emit_frame(sdsim_live *l) {
    sim_run *r = l->run;
    l->nnotices += sdsim_frame_state_changes(l->frames, r, l->notices + l->nnotices,
                                             SDSIM_NOTICE_MAX - l->nnotices);
    int state = l->state;
    if (state == SDSIM_LIVE_PAUSED && l->step_to >= 0) state = SDSIM_LIVE_RUNNING;
    sdsim_frame_meta m = {.id = l->opts.id,
                          .seq = l->seq++,
                          .state = state,
                          .speed = l->speed,
                          .duration = l->opts.duration,
                          .error = l->error,
                          .notices = l->notices,
                          .nnotices = l->nnotices};
    size_t len;
    const uint8_t *bytes = sdsim_frame_build(l->frames, r, &m, &len);
    if (!bytes) {
        l->nnotices = l->notices_pending = 0;
        return;
    }
    l->notices_pending = l->nnotices;
    if (len > l->pending_cap) {
        uint8_t *p = realloc(l->pending, len);
        if (!p) return;
        l->pending = p;
        l->pending_cap = len;
    }
    memcpy(l->pending, bytes, len);
    l->pending_len = len;
    l->has_pending = 1;
    uv_async_send(&l->async);
}

/* The simulated time the run should reach now. */
static double due_time(sdsim_live *l, double wall) {
    double end = l->opts.duration;
    if (l->step_to >= 0) return l->step_to;
    if (l->state == SDSIM_LIVE_PAUSED) return sim_run_now(l->run);
    if (l->speed <= 0) return end;
    double due = l->anchor_sim + (wall - l->anchor_wall) * l->speed;
    if (due - sim_run_now(l->run) > MAX_LAG * l->speed) { /* too far behind: no catching up */
        l->anchor_wall = wall - MAX_LAG;
        l->anchor_sim = sim_run_now(l->run);
        due = l->anchor_sim + MAX_LAG * l->speed;
    }
    return due < end ? due : end;
}

/* Runs one slice towards `due`, growing or shrinking the slice's simulated length so that it
 * takes about SLICE_TARGET of wall time. Returns sim_run_until's verdict. */
static int run_slice(sdsim_live *l, double due, double *slice) {
    double now = sim_run_now(l->run);
    double to = now + *slice < due ? now + *slice : due;
    double t0 = wall_now();
    int rc = sim_run_until(l->run, to);
    double took = wall_now() - t0;
    if (to < due) { /* the slice was cut by its length, not by the time due */
        if (took < SLICE_TARGET / 2)
            *slice *= 2;
        else if (took > SLICE_TARGET * 2)
            *slice /= 2;
        if (*slice < 1e-9) *slice = 1e-9;
    }
    l->sim_time = sim_run_now(l->run);
    l->events = sim_run_events(l->run);
    return rc;
}

static void wait_for(sdsim_live *l, double seconds) {
    if (seconds <= 0) return;
    uint64_t ns = (uint64_t)(seconds * 1e9);
    uv_cond_timedwait(&l->wake, &l->mu, ns > 0 ? ns : 1);
}

/* The run has ended: its report (not when the live simulation is being freed: nobody would
 * read it), the last frame, then the run and its behaviours go. */
static void finish(sdsim_live *l, sdsim_live_state state) {
    l->state = state;
    l->step_to = -1;
    l->wall_end = wall_now();
    l->sim_time = sim_run_now(l->run);
    l->events = sim_run_events(l->run);
    if (state == SDSIM_LIVE_FAILED) {
        const char *why = sim_run_error(l->run);
        snprintf(l->error, sizeof l->error, "%s", why ? why : "the run stopped");
    } else if (!l->freeing) {
        /* The report (the analytic pass included) may take a while on a large design: control
         * calls are refused from now on (finishing), so the run is the thread's alone and the
         * mutex can go meanwhile. */
        l->finishing = 1;
        char *report = NULL;
        size_t len = 0;
        uv_mutex_unlock(&l->mu);
        if (sdsim_live_report_of(l->design, l->run, l->opts.warmup, l->opts.seed,
                                 l->wall_end - l->wall_start, &report, &len))
            report = NULL;
        uv_mutex_lock(&l->mu);
        l->report = report;
        l->report_len = len;
        notice(l, l->sim_time, state == SDSIM_LIVE_FINISHED ? "finished" : "stopped", -1,
               "the run %s at %.3f s of simulated time",
               state == SDSIM_LIVE_FINISHED ? "finished" : "was stopped", l->sim_time);
    }
    if (!l->freeing) emit_frame(l);
    sim_run_free(l->run);
    l->run = NULL;
    if (l->scripts) sdsim_behavior_detach(l->design, l->scripts);
    l->scripts = NULL;
    l->ended = 1;
    uv_async_send(&l->async);
}

/* How long the thread may sleep: until the next frame, and while paced until the wall time at
 * which the next event is due (nothing changes before it), but at least one pacing tick. */
static double sleep_for(sdsim_live *l, double wall, double next_frame) {
    double until_frame = next_frame - wall;
    if (l->state == SDSIM_LIVE_PAUSED && l->step_to < 0) return until_frame;
    double t = sim_run_next_event(l->run);
    if (next_pending(l) < t) t = next_pending(l);
    double until_event =
        l->speed > 0 ? l->anchor_wall + (t - l->anchor_sim) / l->speed - wall : PACE_TICK;
    if (until_event < PACE_TICK) until_event = PACE_TICK;
    return until_event < until_frame ? until_event : until_frame;
}

static void thread_main(void *arg) {
    sdsim_live *l = arg;
    double interval = l->opts.frame_interval > 0 ? l->opts.frame_interval : DEFAULT_FRAME_INTERVAL;
    double slice = 1e-3;
    uv_mutex_lock(&l->mu);
    anchor(l);
    double next_frame = 0; /* the first frame at once */
    sdsim_live_state end = SDSIM_LIVE_STOPPED;
    for (;;) {
        while (atomic_load(&l->waiters) > 0)
            uv_cond_wait(&l->wake, &l->mu);
        if (l->stop_req) break;
        apply_pending(l);
        double due = due_time(l, wall_now());
        if (next_pending(l) < due) due = next_pending(l); /* a scheduled fault starts there */
        int more = 0;                                     /* events are due now: no sleep */
        if (sim_run_now(l->run) < due) {
            int rc = run_slice(l, due, &slice);
            if (rc < 0) {
                end = SDSIM_LIVE_FAILED;
                break;
            }
            if (rc > 0) {
                end = SDSIM_LIVE_FINISHED;
                break;
            }
            apply_pending(l);
            if (l->step_to >= 0 && sim_run_now(l->run) >= l->step_to) {
                l->step_to = -1;
                l->state = SDSIM_LIVE_PAUSED;
                notice(l, sim_run_now(l->run), "paused", -1, "paused after a step, at %.3f s",
                       sim_run_now(l->run));
                l->frame_now = 1;
            }
            /* Paced and caught up: sleep instead of chasing the clock in ever smaller slices
             * (which would never let go of the mutex). */
            int paced = l->step_to < 0 && l->speed > 0 && l->state == SDSIM_LIVE_RUNNING;
            more = !paced || sim_run_now(l->run) < due;
        }
        timeline_due(l, sim_run_now(l->run));
        double wall = wall_now();
        if (wall >= next_frame || l->frame_now) {
            int idle = l->state == SDSIM_LIVE_PAUSED && l->step_to < 0;
            emit_frame(l);
            l->frame_now = 0;
            next_frame = wall + (idle ? IDLE_FRAME_INTERVAL : interval);
        }
        if (more) continue;
        wait_for(l, sleep_for(l, wall, next_frame));
    }
    finish(l, end);
    uv_mutex_unlock(&l->mu);
}

/* ------------------------------------------------------------------------------------- */
/* The loop side */

static void ctl_lock(sdsim_live *l) {
    atomic_fetch_add(&l->waiters, 1);
    uv_mutex_lock(&l->mu);
    atomic_fetch_sub(&l->waiters, 1);
}

static void ctl_unlock(sdsim_live *l) {
    uv_cond_broadcast(&l->wake);
    uv_mutex_unlock(&l->mu);
}

static void on_async(uv_async_t *h) {
    sdsim_live *l = h->data;
    ctl_lock(l);
    int got = l->has_pending, ended = l->ended;
    if (got) {
        uint8_t *p = l->shown;
        size_t cap = l->shown_cap;
        l->shown = l->pending;
        l->shown_cap = l->pending_cap;
        l->shown_len = l->pending_len;
        l->pending = p;
        l->pending_cap = cap;
        l->has_pending = 0;
        l->have_shown = 1;
        /* the notices of the frame taken are delivered: those since stay for the next one */
        memmove(l->notices, l->notices + l->notices_pending,
                (size_t)(l->nnotices - l->notices_pending) * sizeof *l->notices);
        l->nnotices -= l->notices_pending;
        l->notices_pending = 0;
    }
    sdsim_live_state state = l->state;
    ctl_unlock(l);
    if (l->freeing) return;
    if (got && l->cb.on_frame) l->cb.on_frame(l, l->shown, l->shown_len, l->cb.ud);
    if (l->freeing) return; /* freed from on_frame: the memory goes when the handle closes */
    if (ended && !l->end_called) {
        if (!l->joined) {
            uv_thread_join(&l->thread);
            l->joined = 1;
        }
        l->end_called = 1;
        if (l->cb.on_end) l->cb.on_end(l, state, l->cb.ud);
    }
}

static void release(sdsim_live *l) {
    if (l->run) sim_run_free(l->run);
    if (l->scripts) sdsim_behavior_detach(l->design, l->scripts);
    if (l->own_design) sim_design_free(l->design);
    sdsim_frame_builder_free(l->frames);
    uv_mutex_destroy(&l->mu);
    uv_cond_destroy(&l->wake);
    free(l->timeline);
    free(l->pending_faults);
    free(l->source);
    for (int i = 0; i < l->nscenarios; i++)
        free(l->scenarios[i]);
    free(l->scenarios);
    free(l->pending);
    free(l->shown);
    free(l->report);
    free(l);
}

static void on_closed(uv_handle_t *h) {
    release(h->data);
}

/* Lua behaviours of the project's own component types run in this process, as in `sdsim
 * run`; plugin types need the isolated child process only `sdsim run --plugins` gives. */
static int attach_scripts(sdsim_live *l, char *err, int errlen) {
    if (!sdsim_design_has_scripts(l->design)) return 0;
    if (sdsim_design_has_plugins(l->design)) {
        say(err, errlen,
            "designs with plugin component types cannot run live (they run isolated, only "
            "with `sdsim run --plugins`)");
        return -1;
    }
    char why[1024];
    l->scripts = sdsim_behavior_attach(l->design, NULL, why, sizeof why);
    if (!l->scripts) {
        snprintf(err, (size_t)(errlen > 0 ? errlen : 0), "%s", why);
        return -1;
    }
    return 0;
}

static int build_run(sdsim_live *l, char *err, int errlen) {
    sim_options o = sdsim_live_sim_options(l->opts.duration, l->opts.warmup, l->opts.seed);
    char why[512];
    l->run = sim_run_new(l->design, &o, why, sizeof why);
    if (!l->run) {
        snprintf(err, (size_t)(errlen > 0 ? errlen : 0), "cannot run: %s", why);
        return -1;
    }
    l->frames = sdsim_frame_builder_new(l->design, l->opts.max_hops);
    if (!l->frames || sdsim_frame_attach(l->frames, l->run)) {
        say(err, errlen, "out of memory for the frames");
        return -1;
    }
    for (int k = 0; k < l->design->nfaults; k++)
        fault_notices(l, &l->design->faults[k], l->design->faults[k].at, 0);
    return 0;
}

static int check_opts(const sdsim_live_opts *o, char *err, int errlen) {
    if (!(isfinite(o->duration) && o->duration > 0)) {
        say(err, errlen, "duration must be > 0 seconds");
        return -1;
    }
    if (!(isfinite(o->warmup) && o->warmup >= 0 && o->warmup < o->duration)) {
        say(err, errlen, "warmup must be in [0, duration)");
        return -1;
    }
    if (!(isfinite(o->speed) && o->speed >= 0 && o->speed <= MAX_SPEED)) {
        say(err, errlen, "speed must be >= 0 (0 = as fast as possible)");
        return -1;
    }
    if (!(isfinite(o->frame_interval) && o->frame_interval >= 0 && o->frame_interval <= 60) ||
        (o->frame_interval > 0 && o->frame_interval < MIN_FRAME_INTERVAL)) {
        say(err, errlen, "frame_interval must be 0 (the default) or from 0.01 to 60 seconds");
        return -1;
    }
    if (o->max_hops < 0 || o->max_hops > MAX_HOPS) {
        say(err, errlen, "max_hops must be from 0 (the default) to 10000");
        return -1;
    }
    return 0;
}

sdsim_live *sdsim_live_start(uv_loop_t *loop, sim_design *design, const sdsim_live_opts *opts,
                             const sdsim_live_callbacks *cb, char *err, int errlen) {
    if (check_opts(opts, err, errlen)) return NULL;
    sdsim_live *l = calloc(1, sizeof *l);
    if (!l) {
        say(err, errlen, "out of memory");
        return NULL;
    }
    l->loop = loop;
    l->design = design;
    l->opts = *opts;
    l->opts.id[sizeof l->opts.id - 1] = 0;
    if (cb) l->cb = *cb;
    l->speed = opts->speed;
    l->step_to = -1;
    l->state = opts->start_paused ? SDSIM_LIVE_PAUSED : SDSIM_LIVE_RUNNING;
    uv_mutex_init(&l->mu);
    uv_cond_init(&l->wake);
    if (attach_scripts(l, err, errlen) || build_run(l, err, errlen)) {
        release(l);
        return NULL;
    }
    if (uv_async_init(loop, &l->async, on_async)) {
        say(err, errlen, "cannot create the loop's wake-up handle");
        release(l);
        return NULL;
    }
    l->async.data = l;
    l->wall_start = wall_now();
    if (opts->start_paused) notice(l, 0, "paused", -1, "the run starts paused");
    if (uv_thread_create(&l->thread, thread_main, l)) {
        say(err, errlen, "cannot start the simulation's thread");
        uv_close((uv_handle_t *)&l->async, on_closed);
        return NULL;
    }
    l->thread_started = 1;
    l->own_design = 1;
    return l;
}

/* ------------------------------------------------------------------------------------- */
/* Control (loop thread) */

/* 0 while the run goes on (mu held), else -1 with the reason, mu released. */
static int ctl_begin(sdsim_live *l, char *err, int errlen) {
    ctl_lock(l);
    if (!l->ended && !l->stop_req && !l->finishing) return 0;
    const char *why = l->stop_req && !l->finishing      ? "the simulation is stopping"
                      : l->state == SDSIM_LIVE_FINISHED ? "the simulation has finished"
                      : l->state == SDSIM_LIVE_FAILED   ? "the simulation has failed"
                                                        : "the simulation has been stopped";
    say(err, errlen, why);
    ctl_unlock(l);
    return -1;
}

int sdsim_live_pause(sdsim_live *l, char *err, int errlen) {
    if (ctl_begin(l, err, errlen)) return -1;
    if (l->state != SDSIM_LIVE_PAUSED || l->step_to >= 0) {
        l->state = SDSIM_LIVE_PAUSED;
        l->step_to = -1;
        notice(l, l->sim_time, "paused", -1, "paused at %.3f s", l->sim_time);
        l->frame_now = 1;
    }
    ctl_unlock(l);
    return 0;
}

int sdsim_live_resume(sdsim_live *l, char *err, int errlen) {
    if (ctl_begin(l, err, errlen)) return -1;
    if (l->state != SDSIM_LIVE_RUNNING || l->step_to >= 0) {
        l->state = SDSIM_LIVE_RUNNING;
        l->step_to = -1;
        anchor(l);
        notice(l, l->sim_time, "resumed", -1, "resumed at %.3f s", l->sim_time);
        l->frame_now = 1;
    }
    ctl_unlock(l);
    return 0;
}

int sdsim_live_step(sdsim_live *l, double seconds, char *err, int errlen) {
    if (!(isfinite(seconds) && seconds > 0)) {
        say(err, errlen, "step: seconds must be > 0");
        return -1;
    }
    if (ctl_begin(l, err, errlen)) return -1;
    double from = sim_run_now(l->run);
    l->step_to = from + seconds < l->opts.duration ? from + seconds : l->opts.duration;
    l->state = SDSIM_LIVE_PAUSED; /* shown as running while the step runs */
    notice(l, from, "step", -1, "a step of %g s from %.3f s", seconds, from);
    l->frame_now = 1;
    ctl_unlock(l);
    return 0;
}

int sdsim_live_set_speed(sdsim_live *l, double speed, char *err, int errlen) {
    if (!(isfinite(speed) && speed >= 0 && speed <= MAX_SPEED)) {
        say(err, errlen, "speed must be >= 0 (0 = as fast as possible)");
        return -1;
    }
    if (ctl_begin(l, err, errlen)) return -1;
    if (speed != l->speed) {
        l->speed = speed;
        anchor(l);
        if (speed > 0)
            notice(l, l->sim_time, "speed", -1, "speed %gx", speed);
        else
            notice(l, l->sim_time, "speed", -1, "speed: as fast as possible");
        l->frame_now = 1;
    }
    ctl_unlock(l);
    return 0;
}

int sdsim_live_inject(sdsim_live *l, const sim_fault *f, char *err, int errlen) {
    if (ctl_begin(l, err, errlen)) return -1;
    int rc = sim_run_inject(l->run, f);
    if (rc) {
        const char *why = sim_run_error(l->run);
        say(err, errlen, why ? why : "the fault was refused");
    } else {
        fault_notices(l, f, sim_run_now(l->run), 1);
        l->frame_now = 1;
    }
    ctl_unlock(l);
    return rc;
}

int sdsim_live_set_replicas(sdsim_live *l, int component, int replicas, char *err, int errlen) {
    if (ctl_begin(l, err, errlen)) return -1;
    int rc = sim_run_set_replicas(l->run, component, replicas);
    if (rc) {
        const char *why = sim_run_error(l->run);
        say(err, errlen, why ? why : "the change was refused");
    } else {
        sdsim_frame_replicas_known(l->frames, l->run, component);
        notice(l, l->sim_time, "scaled", component, "%s scaled to %d replica%s",
               l->design->components[component].id, replicas, replicas == 1 ? "" : "s");
        l->frame_now = 1;
    }
    ctl_unlock(l);
    return rc;
}

/* A source's rate from now on (sim_run_set_rate); a notice says what changed. */
int sdsim_live_set_rate(sdsim_live *l, int source, double rps, char *err, int errlen) {
    if (ctl_begin(l, err, errlen)) return -1;
    double before = sim_run_rate(l->run, source);
    int rc = sim_run_set_rate(l->run, source, rps);
    if (rc) {
        const char *why = sim_run_error(l->run);
        say(err, errlen, why ? why : "the change was refused");
    } else {
        int to = l->design->workloads[source].to;
        notice(l, l->sim_time, "workload", to, "traffic to %s: %g -> %g requests/s",
               l->design->components[to].id, before, rps);
        l->frame_now = 1;
    }
    ctl_unlock(l);
    return rc;
}

double sdsim_live_rate(sdsim_live *l, int source) {
    ctl_lock(l);
    double v = l->run ? sim_run_rate(l->run, source) : -1;
    ctl_unlock(l);
    return v;
}

/* 0 when f's target exists in the design (the engine checks the rest when it starts). */
static int check_target(const sim_design *d, const sim_fault *f) {
    if (f->kind == SIM_FAULT_ZONE) return f->zone[0] ? 0 : -1;
    if (f->kind == SIM_FAULT_PARTITION || f->kind == SIM_FAULT_PACKET_LOSS)
        return f->target >= 0 && f->target < d->nedges ? 0 : -1;
    return f->target >= 0 && f->target < d->ncomponents ? 0 : -1;
}

int sdsim_live_schedule(sdsim_live *l, const sim_fault *faults, int n, const char *label,
                        double *from, char *err, int errlen) {
    for (int k = 0; k < n; k++)
        if (check_target(l->design, &faults[k]) || !isfinite(faults[k].at)) {
            if (err && errlen > 0)
                snprintf(err, (size_t)errlen, "fault %d (%s): no such target in this design", k,
                         sim_fault_kind_name(faults[k].kind));
            return -1;
        }
    if (ctl_begin(l, err, errlen)) return -1;
    if (l->npending + n > l->cap_pending) {
        int cap = l->cap_pending ? l->cap_pending : 8;
        while (cap < l->npending + n)
            cap *= 2;
        sim_fault *p = realloc(l->pending_faults, (size_t)cap * sizeof *p);
        if (!p) {
            say(err, errlen, "out of memory");
            ctl_unlock(l);
            return -1;
        }
        l->pending_faults = p;
        l->cap_pending = cap;
    }
    double now = sim_run_now(l->run);
    /* Inserted in order, after those at the same time: faults at one time start in the
     * scenario's order (the latest of one kind on one target wins, as in the engine). */
    for (int k = 0; k < n; k++) {
        sim_fault f = faults[k];
        f.at = now + (f.at > 0 ? f.at : 0);
        int i = l->npending++;
        while (i > 0 && l->pending_faults[i - 1].at > f.at) {
            l->pending_faults[i] = l->pending_faults[i - 1];
            i--;
        }
        l->pending_faults[i] = f;
    }
    if (label && label[0]) notice(l, now, "scenario", -1, "%s (times from %.3f s)", label, now);
    apply_pending(l);
    l->frame_now = 1;
    if (from) *from = now;
    ctl_unlock(l);
    return 0;
}

int sdsim_live_pending_faults(sdsim_live *l) {
    ctl_lock(l);
    int n = l->npending;
    ctl_unlock(l);
    return n;
}

int sdsim_live_keep_source(sdsim_live *l, const char *text, size_t len) {
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, text, len);
    copy[len] = 0;
    free(l->source);
    l->source = copy;
    l->source_len = len;
    return 0;
}

const char *sdsim_live_source(sdsim_live *l, size_t *len) {
    *len = l->source_len;
    return l->source;
}

int sdsim_live_add_scenario(sdsim_live *l, const char *summary) {
    char **p = realloc(l->scenarios, (size_t)(l->nscenarios + 1) * sizeof *p);
    if (!p) return -1;
    l->scenarios = p;
    if (!(p[l->nscenarios] = strdup(summary))) return -1;
    l->nscenarios++;
    return 0;
}

const char *sdsim_live_scenario_at(sdsim_live *l, int i) {
    return i >= 0 && i < l->nscenarios ? l->scenarios[i] : NULL;
}

void sdsim_live_notice(sdsim_live *l, const char *kind, int component, const char *text) {
    ctl_lock(l);
    notice(l, l->sim_time, kind, component, "%s", text);
    l->frame_now = 1;
    ctl_unlock(l);
}

void sdsim_live_stop(sdsim_live *l) {
    ctl_lock(l);
    l->stop_req = 1;
    ctl_unlock(l);
}

void sdsim_live_status_get(sdsim_live *l, sdsim_live_status *out) {
    ctl_lock(l);
    memset(out, 0, sizeof *out);
    out->state = l->state;
    if (!l->ended && l->state == SDSIM_LIVE_PAUSED && l->step_to >= 0)
        out->state = SDSIM_LIVE_RUNNING;
    out->sim_time = l->sim_time;
    out->duration = l->opts.duration;
    out->speed = l->speed;
    out->events = l->events;
    out->wall_seconds = (l->ended ? l->wall_end : wall_now()) - l->wall_start;
    snprintf(out->error, sizeof out->error, "%s", l->error);
    ctl_unlock(l);
}

const sim_design *sdsim_live_design(const sdsim_live *l) {
    return l->design;
}

const uint8_t *sdsim_live_last_frame(sdsim_live *l, size_t *len) {
    if (!l->have_shown) {
        *len = 0;
        return NULL;
    }
    *len = l->shown_len;
    return l->shown;
}

char *sdsim_live_report_json(sdsim_live *l, size_t *len) {
    *len = 0;
    if (!l->end_called || !l->report) return NULL;
    char *copy = malloc(l->report_len + 1);
    if (!copy) return NULL;
    memcpy(copy, l->report, l->report_len);
    copy[l->report_len] = 0;
    *len = l->report_len;
    return copy;
}

void sdsim_live_free(sdsim_live *l) {
    if (!l) return;
    ctl_lock(l);
    if (!l->end_called) l->freeing = 1; /* on_end is not called any more */
    l->stop_req = 1;
    ctl_unlock(l);
    if (l->thread_started && !l->joined) {
        uv_thread_join(&l->thread);
        l->joined = 1;
    }
    uv_close((uv_handle_t *)&l->async, on_closed);
}

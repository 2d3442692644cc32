/* uv_poll_start, changed in place.
 *
 * libuv 1.44's uv_poll_start always stops the handle first: an EPOLL_CTL_DEL at once, then an
 * EPOLL_CTL_ADD at the next loop iteration, even when the event mask does not change.
 * libwebsockets 4.1 (its libuv plugin) calls it four times per keep-alive HTTP request (read
 * on again, write on after each transaction, write off, read on), so six epoll_ctl system
 * calls per request: measured at a quarter of the server's CPU time under wrk.
 *
 * This definition, exported from the executable (CMakeLists.txt), is the one the plugin and
 * our own code bind to. On a handle that is active, with the same callback, and whose mask
 * epoll already holds, a call with the same mask does nothing and a call with another mask is
 * one EPOLL_CTL_MOD; everything else goes to libuv's own uv_poll_start. The fields it reads
 * and sets (io_watcher.pevents/events: the mask wanted and the mask in epoll) are in libuv's
 * public headers; a mask set here is what libuv's loop would have set itself
 * (src/unix/epoll.c: e.events = pevents, e.data.fd = fd). Linux only, like the server. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <poll.h>
#include <sys/epoll.h>
#include <uv.h>

typedef int (*poll_start_fn)(uv_poll_t *, int, uv_poll_cb);

static poll_start_fn libuv_poll_start(void) {
    static poll_start_fn real;
    if (!real) real = (poll_start_fn)dlsym(RTLD_NEXT, "uv_poll_start");
    return real;
}

int uv_poll_start(uv_poll_t *handle, int pevents, uv_poll_cb poll_cb) {
    uv__io_t *w = &handle->io_watcher;
    int plain = pevents && !(pevents & ~(UV_READABLE | UV_WRITABLE));
    if (plain && poll_cb == handle->poll_cb && uv_is_active((uv_handle_t *)handle) &&
        w->events != 0 && w->events == w->pevents) {
        unsigned want =
            (pevents & UV_READABLE ? POLLIN : 0) | (pevents & UV_WRITABLE ? POLLOUT : 0);
        if (want == w->events) return 0;
        struct epoll_event e = {.events = want, .data.fd = w->fd};
        if (epoll_ctl(uv_backend_fd(handle->loop), EPOLL_CTL_MOD, w->fd, &e) == 0) {
            w->pevents = w->events = want;
            return 0;
        }
    }
    return libuv_poll_start()(handle, pevents, poll_cb);
}

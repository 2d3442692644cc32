/* One HTTP request as the server keeps it: parsed by libwebsockets, copied here (so that it
 * outlives the connection while a Lua coroutine still works on it), answered through
 * sdsim_http_respond. A request is freed once it is answered (or its client is gone) and no
 * handler holds it any more. */
#pragma once
#include <stddef.h>

#include "server_defs.h"

struct sdsim_http_req {
    sdsim_server *srv;
    struct lws *wsi; /* NULL once the client has gone */
    char method[8];
    int method_index; /* LWSHUMETH_* */
    char *path;       /* decoded and normalised by libwebsockets, without the query */
    char **query;     /* decoded "name=value" fragments */
    int nquery;
    char **headers; /* names (lower case, no colon) and values: headers[2i], headers[2i+1] */
    int nheaders;
    char *body;
    size_t body_len, body_cap;
    double started;     /* sdsim_server_now() when the headers were complete */
    int api_pending;    /* a Lua handler still holds the request */
    size_t discarded;   /* bytes of an oversized body read and dropped (then 413) */
    long body_declared; /* Content-Length, or -1 (chunked or none) */
    /* The response */
    int responded; /* sdsim_http_respond was called */
    int status;
    char *content_type;
    char *extra_headers; /* "name: value\n" lines */
    char *resp;
    size_t resp_len, resp_sent;
    int headers_sent, close_after, served_file;
    int in_dispatch; /* being routed inside lws's callback: an answer is written on return */
    char route[48];  /* the metrics label: "GET /api/components", "/healthz", "static" ... */
};

/* Answers the request (copies everything). extra_headers: "name: value" lines separated by
 * '\n', or NULL. The route label is taken from r->route (set it before). */
void sdsim_http_respond(sdsim_http_req *r, int status, const char *content_type, const char *body,
                        size_t len, const char *extra_headers);
/* {"error": message} with the status. */
void sdsim_http_respond_error(sdsim_http_req *r, int status, const char *message,
                              const char *extra_headers);
/* The value of a request header (name in lower case), or NULL. */
const char *sdsim_http_header(const sdsim_http_req *r, const char *name);
/* Called by the API when its handler no longer holds the request and will not answer it
 * (server shutdown): frees it if the client is gone. */
void sdsim_http_release(sdsim_http_req *r);

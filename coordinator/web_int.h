/* web_int.h - shared by web.c (listeners, the gate every request passes, the reads),
 * web_login.c (sessions: sign-in and out) and web_cmd.c (commands). Not for other files. */
#ifndef CS_COORD_WEB_INT_H
#define CS_COORD_WEB_INT_H

#include <cjson/cJSON.h>
#include <event2/http.h>

#include "cs/buf.h"
#include "cs/keys.h"
#include "cs/opts.h"
#include "cs/util.h"
#include "ratelimit.h"
#include "sessions.h"
#include "web.h"

#define WEB_CLIENT_MAX 64

struct tls;
struct pending;

struct listener {
    struct web *w;
    struct evhttp *http;
    unsigned serves; /* SERVE_* */
    int port;        /* as bound */
    char cookie[32]; /* the session cookie's name: cs_session_PORT (cookies ignore ports) */
};

struct web {
    struct event_base *base;
    struct web_opts o;
    char ns[CS_NS_MAX + 1];
    char id[128];
    struct listener lis[2];
    size_t nlis;
    struct tls *tls; /* NULL: plain HTTP */
    struct sessions *sess;
    struct ratelimit *rl;
    char csp[768];   /* the page's Content-Security-Policy */
    struct rds *sub; /* {ns}:reply */
    char ch_reply[CS_KEY_MAX];
    struct pending *pending; /* commands waiting for replies */
    size_t npending;
    struct cs_rng rng;
};

/* A request as the gate let it through: who sent it, from where. */
struct web_req {
    struct listener *l;
    struct evhttp_request *req;
    char client[WEB_CLIENT_MAX]; /* the peer's address */
    enum auth_role role;
    char name[AUTH_NAME_MAX + 1];  /* who: a user or token name, "anonymous" when open */
    char session[SESS_ID_HEX + 1]; /* signed in by the session cookie: its id, else "" */
};

/* ---- web.c: answers ---- */
/* Sends body with the content type (the gate already added the common headers). */
void web_send(struct evhttp_request *req, int code, const char *reason, const char *ctype,
              const void *body, size_t len);
void web_send_json(struct evhttp_request *req, int code, const char *reason,
                   const struct buf *json);
/* {"error": msg} with the status. */
void web_send_error(struct evhttp_request *req, int code, const char *reason, const char *msg);
/* 429 with Retry-After. */
void web_send_busy(struct evhttp_request *req, int retry_s, const char *msg);
/* The request body (up to WEB_BODY_MAX) parsed as a JSON object; NULL after answering 400. */
cJSON *web_json_body(struct web_req *r, const char *expect);
bool web_tls(const struct web *w);

/* ---- web_login.c ---- */
void web_handle_session(struct web_req *r); /* GET /api/session */
void web_handle_login(struct web_req *r);   /* POST /api/login */
void web_handle_logout(struct web_req *r);  /* POST /api/logout */
/* A wrong credential from r's client was presented: counted; logged when it runs out. */
void web_auth_failed(struct web *w, const char *client, const char *what);

/* ---- web_cmd.c ---- */
void web_handle_command(struct web_req *r); /* POST /api/command */
/* [loop] A message on {ns}:reply. */
void web_cmd_on_reply(struct web *w, const char *payload, size_t len);
/* Answers every waiting command with 503; returns how many. */
size_t web_cmd_stop(struct web *w);

#endif

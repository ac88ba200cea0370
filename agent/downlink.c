/* downlink.c - what the platform sends a charger: its CALLs go to the handler table of the
 * charger's OCPP version (handlers16.c, handlers201.c), each answering with a payload and
 * naming what to do once the answer is out (so the CALLRESULT precedes what it causes); its
 * answers to the charger's CALLs go to the CALL layer. [loop] */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "calls.h"
#include "crt.h"
#include "cs/log.h"
#include "cs/mem.h"
#include "dl.h"
#include "downlink.h"
#include "handlers16.h"
#include "handlers201.h"

static void respond(struct charger_rt *ch, const char *action, const char *frame, size_t len)
{
    struct cs_error err;
    if (link_send(&ch->link, TR_ANSWER, action, frame, len, &err) == CS_OK)
        crt_ctx(ch)->st->out_answers++;
}

/* OCPP 2.0.1 spells two codes as 1.6's errata does. */
static const char *code_for(const struct charger_rt *ch, const char *code)
{
    if (crt_version(ch) != OCPP_V201)
        return code;
    if (strcmp(code, OCPP_E_FORMATION) == 0)
        return "FormatViolation";
    if (strcmp(code, OCPP_E_OCCURRENCE) == 0)
        return "OccurrenceConstraintViolation";
    return code;
}

static void send_error(struct charger_rt *ch, const char *uid, const char *action, const char *code,
                       const char *desc)
{
    code = code_for(ch, code);
    struct buf frame = BUF_INIT;
    crt_ctx(ch)->st->callerrors_out++;
    ocpp_encode_error(crt_profile(ch), uid && *uid ? uid : "-1", code, desc, cs_now_ms(), &frame);
    astats_down_end(&crt_ctx(ch)->st->act, code, frame.len, cs_mono_us());
    respond(ch, action, frame.s, frame.len);
    buf_free(&frame);
}

static void on_call(struct charger_rt *ch, const struct ocpp_frame *f)
{
    struct worker_stats *st = crt_ctx(ch)->st;
    struct cs_error err = {0};
    const char *code = NULL;
    bool v16 = crt_version(ch) == OCPP_V16;
    const struct dl_table *t = v16 ? handlers16() : handlers201();
    int at = t->index(f->action);
    astats_down_begin(&st->act, f->action, cs_mono_us());
    st->calls_in++;
    ch->calls_in++;
    if (at >= 0 && v16)
        st->in_by_call[at]++; /* by the 1.6 action list; 2.0.1 is counted by name (astats) */
    else
        st->in_other++;
    if (at < 0 || at >= t->n || !t->fn[at]) {
        bool known = at >= 0;
        send_error(ch, f->uid, f->action, known ? OCPP_E_NOT_SUPPORTED : OCPP_E_NOT_IMPLEMENTED,
                   known ? "action not supported by this charger" : "unknown action");
        return;
    }
    if (ocpp_check(f->payload, t->fields(f->action), &code, &err) != CS_OK) {
        send_error(ch, f->uid, f->action, code, err.msg);
        return;
    }
    struct buf payload = BUF_INIT, frame = BUF_INIT;
    struct jw j;
    struct follow *then = cs_calloc(1, sizeof(*then));
    jw_init(&j, &payload);
    jw_obj(&j);
    int rc = t->fn[at](ch, f->payload, &j, then, &code, &err);
    jw_end(&j);
    if (rc) {
        send_error(ch, f->uid, f->action, code ? code : OCPP_E_INTERNAL, err.msg);
    } else {
        ocpp_encode_result(crt_profile(ch), f->uid, f->action, cs_now_ms(), payload.s, payload.len,
                           &frame);
        astats_down_end(&st->act, NULL, frame.len, cs_mono_us());
        respond(ch, f->action, frame.s, frame.len);
        dl_run_follow(ch, then, f->payload);
    }
    cs_free(then);
    buf_free(&payload);
    buf_free(&frame);
}

void downlink_on_frame(struct charger_rt *ch, const char *payload, size_t len)
{
    struct ocpp_frame f;
    struct cs_error err;
    const char *code = NULL;
    ch->msgs_in++;
    if (ocpp_decode(crt_profile(ch), payload, len, &f, &code, &err) != CS_OK) {
        log_debug("%s: bad downlink message: %s", ch->m.id, err.msg);
        crt_ctx(ch)->st->downlink_bad++;
        send_error(ch, f.uid, "", code ? code : OCPP_E_FORMATION, err.msg);
        ocpp_frame_free(&f);
        return;
    }
    if (f.type == OCPP_CALL) {
        on_call(ch, &f);
    } else {
        calls_on_answer(&ch->calls, f.type, f.uid, f.payload,
                        f.type == OCPP_ERROR ? f.err_code : NULL);
        f.payload = NULL; /* the CALL layer took it */
    }
    ocpp_frame_free(&f);
}

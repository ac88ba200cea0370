/* wsframe.h - WebSocket framing (RFC 6455, section 5) for a client: frames it sends (masked)
 * and the frames a server sends it, reassembled into messages. Pure: no I/O. */
#ifndef CS_WSFRAME_H
#define CS_WSFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/buf.h"
#include "cs/err.h"

enum wsf_op {
    WSF_CONT = 0x0,
    WSF_TEXT = 0x1,
    WSF_BINARY = 0x2,
    WSF_CLOSE = 0x8,
    WSF_PING = 0x9,
    WSF_PONG = 0xA,
};

#define WSF_HEADER_MAX 14 /* a client frame's header: 2 + 8 (length) + 4 (mask) */

/* The bytes of a client frame carrying len bytes. */
size_t wsf_frame_size(size_t len);
/* Writes one final (FIN) client frame, masked with mask, into out (wsf_frame_size(len) bytes). */
void wsf_encode(uint8_t *out, enum wsf_op op, const void *payload, size_t len,
                const uint8_t mask[4]);

/* What wsf_next found. */
enum wsf_ev_type {
    WSF_EV_NEED,    /* more bytes: `need` in all, from the same start */
    WSF_EV_MESSAGE, /* a whole text or binary message: data, len */
    WSF_EV_PING,    /* data, len: to be echoed in a PONG */
    WSF_EV_PONG,
    WSF_EV_CLOSE, /* code (1005 when the frame has none), data/len: the reason */
    WSF_EV_NONE,  /* a fragment taken in; nothing to do yet */
};

struct wsf_event {
    enum wsf_ev_type type;
    enum wsf_op op; /* of a message: WSF_TEXT or WSF_BINARY */
    const uint8_t *data;
    size_t len;
    size_t need;
    int code;
};

/* A server's frames as they come: the fragments of a message are kept until its last one. */
struct wsf_reader {
    size_t max;     /* longest message accepted */
    struct buf msg; /* fragments so far */
    bool in_msg;
    enum wsf_op msg_op;
};

void wsf_reader_init(struct wsf_reader *r, size_t max_message);
void wsf_reader_free(struct wsf_reader *r);
/* Takes the frame at the start of data (len bytes there): the bytes it used, 0 with
 * WSF_EV_NEED when the frame is not all there, or a negative value when the server broke the
 * protocol (err says how; *close_code is the status to close with: 1002, or 1009 for a
 * message over max). An event's data points into data or the reader: valid until the next
 * call. */
long wsf_next(struct wsf_reader *r, const uint8_t *data, size_t len, struct wsf_event *ev,
              int *close_code, struct cs_error *err);

#endif

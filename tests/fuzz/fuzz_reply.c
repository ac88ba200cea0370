/* Fuzz target: replies on {ns}:reply as swarm-cli and the coordinator read them (parse, tally,
 * summary line). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cs/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_error(void *ctx, int n, const char *worker, const char *msg)
{
    size_t *total = ctx;
    *total += (size_t)n + strlen(worker) + strlen(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *id;
    cJSON *obj = reply_parse((const char *)data, size, &id);
    if (!obj)
        return 0;
    struct reply_tally t = {0};
    size_t total = 0;
    reply_tally_add(&t, obj, on_error, &total);
    reply_tally_add(&t, obj, NULL, NULL);
    static const char *const lines[] = {"@f1 trigger * Heartbeat",
                                        "@f2 ping in=1s",
                                        "@f3 ping every=1s",
                                        "@f4 ping",
                                        "@f5 cancel x",
                                        "@f6 reload cfg"};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct cmd c;
        struct cs_error err;
        if (cmd_parse(lines[i], strlen(lines[i]), &c, &err) != CS_OK)
            continue;
        struct buf b = BUF_INIT;
        (void)reply_nothing_matched(&t, &c);
        reply_summary(&t, &c, "cancel", &b);
        buf_free(&b);
        cmd_free(&c);
    }
    cJSON_Delete(obj);
    return 0;
}

/* reserve.h - OCPP 1.6 Reservation: ReserveNow and CancelReservation from the platform, the
 * Reserved status, expiry, and who may start on a reserved connector (only its idTag, or an
 * idTag with its parentIdTag). A reservation of connector 0 keeps one Available connector for
 * its idTag without showing Reserved (ReserveConnectorZeroSupported). Saved with the charger's
 * state (installed.c): a charger moved or taken over keeps them. [loop] */
#ifndef CS_AGENT_RESERVE_H
#define CS_AGENT_RESERVE_H

#include <stdbool.h>
#include <stdint.h>

struct charger_rt;
struct cJSON;

/* ReserveNow.conf's status for req (Accepted, Faulted, Occupied, Rejected, Unavailable); the
 * charger is not changed yet. */
const char *reserve_answer(struct charger_rt *ch, const struct cJSON *req);
/* After an Accepted answer: the reservation holds, Reserved, until expiryDate. */
void reserve_apply(struct charger_rt *ch, const struct cJSON *req);
/* CancelReservation: Accepted when the id is held (then reserve_cancel ends it), else Rejected. */
bool reserve_held(const struct charger_rt *ch, int32_t id);
void reserve_cancel(struct charger_rt *ch, int32_t id);
/* Whether a reservation holds connector conn (it shows Reserved when Available). */
bool reserve_holds(const struct charger_rt *ch, int conn);
/* Whether id_tag may start on conn: true with *id set (*has) when it uses a reservation. A
 * group reservation whose group the charger cannot tell for id_tag is allowed with the group
 * in group (when not NULL; else ""): the platform's Authorize answer must name it. */
bool reserve_allows(struct charger_rt *ch, int conn, const char *id_tag, bool *has, int32_t *id,
                    char group[21]);
/* The reservation id was used by a transaction: it ends. */
void reserve_used(struct charger_rt *ch, int32_t id);
/* The reservations as a JSON array (installed.c saves it), and back: expired ones are
 * dropped, the others hold again (Reserved where the connector is Available). */
struct jw;
void reserve_save(const struct charger_rt *ch, struct jw *w);
void reserve_restore(struct charger_rt *ch, const struct cJSON *saved);
/* Reservations held (status). */
int reserve_count(const struct charger_rt *ch);
void reserve_free(struct charger_rt *ch);

#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A checkpoint's payload: the serialised state as a list of pieces that are
 * written one after another (the format layer makes it, the storage writes
 * and seals it). Large serialised leaves of a state (a tensor's data over
 * a caller's buffer, anything loaded) are pieces of their own, referenced
 * rather than copied into one buffer. Immutable once made; may be used from
 * several threads at once (the sealing thread reads it while the writer
 * writes it).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CkptPayload CkptPayload;

/* A payload of one piece, @bytes (referenced). */
CkptPayload  *ckpt_payload_new          (GBytes       *bytes);
/* A payload of @pieces (a GPtrArray of GBytes, taken); empty pieces are
 * dropped. */
CkptPayload  *ckpt_payload_new_pieces   (GPtrArray    *pieces);
CkptPayload  *ckpt_payload_ref          (CkptPayload  *payload);
void          ckpt_payload_unref        (CkptPayload  *payload);

gsize         ckpt_payload_get_size     (CkptPayload  *payload);
guint         ckpt_payload_get_n_pieces (CkptPayload  *payload);
/* Piece @index (0 ≤ @index < ckpt_payload_get_n_pieces()). */
const guint8 *ckpt_payload_get_piece    (CkptPayload  *payload,
                                         guint         index,
                                         gsize        *out_size);

/* Calls @func with the bytes of [@offset, @offset + @length) of the
 * payload, in order, one call per piece they span. */
typedef void (*CkptPayloadFunc) (const guint8 *data,
                                 gsize         size,
                                 gpointer      user_data);
void          ckpt_payload_foreach_range (CkptPayload    *payload,
                                          gsize           offset,
                                          gsize           length,
                                          CkptPayloadFunc func,
                                          gpointer        user_data);

/* The payload as one GBytes: its piece if it has one, else a copy. */
GBytes       *ckpt_payload_flatten      (CkptPayload  *payload);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CkptPayload, ckpt_payload_unref)

G_END_DECLS
